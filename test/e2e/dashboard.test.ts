/**
 * The dashboard in real Chromium against the Worker under wrangler dev: sign-in, clients, agents,
 * a switch watched live, the price chart, a backtest, savings, CSV export, tenant isolation, sign-out.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { summarize } from '../../src/ledger/summary'
import { queryD1 } from '../support/d1'
import { startTestWorker, type TestWorker } from '../support/worker'
import {
  call,
  login,
  openBrowser,
  priceHistorySql,
  registerAgent,
  SHOTS,
  type Browser,
} from './dashboard-support'

const ADMIN = { email: 'ops@example.com', password: 'correct horse battery staple' }
let worker: TestWorker
let browser: Browser
const acme = { id: '', token: '', agentId: '', instanceId: 'i-0acme000000000001' }

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true })
  worker = await startTestWorker()
  const created = await call(worker.url, worker.adminToken, 'POST', '/api/admin/users', ADMIN)
  expect(created.status).toBe(201)
  browser = await openBrowser()
})

afterAll(async () => {
  await browser?.close()
  await worker?.stop()
})

const shot = (name: string) => browser.page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true })

describe('dashboard in Chromium', () => {
  it('sends an anonymous page to /login and an anonymous API call a 401 JSON', async () => {
    const { page } = browser
    await page.goto(`${worker.url}/admin/clients`)
    expect(new URL(page.url()).pathname).toBe('/login')
    await shot('login')
    const api = await fetch(`${worker.url}/api/admin/stats`)
    expect(api.status).toBe(401)
    expect(await api.json()).toMatchObject({ code: 'UNAUTHORIZED' })
  })

  it('signs an admin in and creates a client whose token is shown once', async () => {
    const { page } = browser
    await login(page, worker.url, ADMIN.email, ADMIN.password, /\/admin$/)
    await shot('admin-overview-empty')
    await page.goto(`${worker.url}/admin/clients`)
    await page.fill('input[name=name]', 'Acme Corp')
    await page.click('form[data-api="/api/admin/clients/create"] button')
    await page.waitForSelector('#new-client:not([hidden])')
    acme.token = (await page.textContent('#new-token'))!.trim()
    expect(acme.token.length).toBeGreaterThan(20)
    await shot('admin-client-created')
    await page.reload()
    expect(await page.content()).not.toContain(acme.token)
    acme.id = (await page.getAttribute('#clients tr[data-client]', 'data-client'))!
    expect(acme.id).toMatch(/^cli_/)
  })

  it('shows an agent registered with the client token', async () => {
    acme.agentId = await registerAgent(worker.url, acme.token, 'acme-web-1', acme.instanceId)
    await queryD1(worker.persistDir, priceHistorySql(Date.now()))
    const { page } = browser
    await page.goto(`${worker.url}/admin/agents`)
    expect(await page.textContent(`#agents tr[data-agent="${acme.agentId}"]`)).toContain('acme-web-1')
    await shot('admin-agents')
    await page.goto(`${worker.url}/c/${acme.id}/instances`)
    expect(await page.textContent(`#instances tr[data-instance="${acme.instanceId}"]`)).toContain('t3.medium')
    await shot('client-instances')
  })

  it('draws more than one point per pool and on-demand over 7 days', async () => {
    const { page } = browser
    await page.goto(`${worker.url}/c/${acme.id}/instances/${acme.instanceId}?range=7d`)
    const series = await page.$$eval('#price-chart path.series', (paths) =>
      paths.map((p) => ({
        id: p.getAttribute('data-series'),
        points: Number(p.getAttribute('data-points')),
      })),
    )
    expect(series.map((s) => s.id).sort()).toEqual([
      'on-demand',
      't3.medium.us-east-1a',
      't3.medium.us-east-1b',
      't3.medium.us-east-1c',
    ])
    for (const s of series) expect(s.points).toBeGreaterThan(1)
    expect(series.find((s) => s.id === 't3.medium.us-east-1a')!.points).toBeGreaterThan(40)
    await shot('instance-7d')
  })

  it('backtests a parameter version from the engine page on the stored week of prices', async () => {
    const created = await call<{ version: number }>(
      worker.url,
      worker.adminToken,
      'POST',
      '/api/admin/engine/versions',
      {
        params: { min_pool_duration_hours: 1 },
        note: 'e2e candidate',
      },
    )
    expect(created.status).toBe(201)
    const section = `#backtests-v${created.body.version}`
    const { page } = browser
    await page.goto(`${worker.url}/admin/engine`)
    expect(await page.textContent(section)).toContain(`No backtest of v${created.body.version} yet`)
    await page.fill(`${section} input[name=instance_type]`, 't3.medium')
    await page.fill(`${section} input[name=region]`, 'us-east-1')
    await page.fill(`${section} input[name=days]`, '7')
    await Promise.all([page.waitForEvent('load'), page.click(`${section} button[type=submit]`)])
    const rows = await page.$$eval(`${section} .backtest-report tr[data-strategy]`, (trs) =>
      trs.map((tr) => ({
        strategy: tr.getAttribute('data-strategy'),
        cells: Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? ''),
      })),
    )
    expect(rows.map((r) => r.strategy)).toEqual(['active', 'ondemand', 'cheapest', 'legacy', 'optimum'])
    const savings = (name: string) =>
      Number(rows.find((r) => r.strategy === name)!.cells[2]!.replace(/[^0-9.-]/g, ''))
    expect(savings('ondemand')).toBe(0)
    expect(savings('active')).toBeGreaterThan(0)
    expect(savings('legacy')).toBeGreaterThan(0)
    expect(await page.textContent(`${section} .backtest-report`)).toContain('t3.medium in us-east-1')
    await shot('admin-engine-backtest')
  })

  it('queues a switch from the instance page and shows it progress to completed', async () => {
    const { page } = browser
    await page.goto(`${worker.url}/c/${acme.id}/instances/${acme.instanceId}`)
    await page.click('tr[data-pool="t3.medium.us-east-1b"] button.switch')
    const box = 'tr[data-pool="t3.medium.us-east-1b"] .progress'
    await page.waitForSelector(`${box}[data-state="queued"]`)
    const commandId = (await page.getAttribute(box, 'data-command'))!
    // The agent polls: the command is delivered.
    const pending = await call<{ id: string; target_pool_id: string }[]>(
      worker.url,
      acme.token,
      'GET',
      `/api/agents/${acme.agentId}/pending-commands`,
    )
    expect(pending.body.map((c) => c.id)).toContain(commandId)
    expect(pending.body.find((c) => c.id === commandId)?.target_pool_id).toBe('t3.medium.us-east-1b')
    await page.waitForSelector(`${box}[data-state="delivered"], ${box}[data-state="acked"]`)
    await shot('switch-in-progress')
    const done = await call(
      worker.url,
      acme.token,
      'POST',
      `/api/agents/${acme.agentId}/commands/${commandId}/executed`,
      { success: true, message: 'switched' },
    )
    expect(done.status).toBe(200)
    await page.waitForSelector(`${box}[data-state="completed"]`)
    await shot('switch-completed')
  })

  it('shows the savings the ledger computes', async () => {
    const now = Date.now()
    // Finished days: the last ones are computed from the running agent's segments (ledger/live.ts).
    const days = [3, 4, 5, 35].map((d) => new Date(now - d * 86_400_000).toISOString().slice(0, 10))
    const rows = days.map((day, i) => ({ day, baseline: 1 + i, primary: 0.3, replica: 0.05, overlap: 0.01 }))
    const values = rows.map(
      (r) =>
        `('${acme.agentId}', '${acme.id}', '${r.day}', ${r.baseline}, ${r.primary}, ${r.replica}, ${r.overlap}, ${r.baseline - r.primary - r.replica - r.overlap}, ${now})`,
    )
    await queryD1(
      worker.persistDir,
      `insert or replace into savings_daily (agent_id, client_id, day, baseline_cost, primary_cost, replica_cost, overlap_cost, savings, computed_at) values ${values.join(', ')}`,
    )
    const { page } = browser
    await page.goto(`${worker.url}/c/${acme.id}/savings`)
    await shot('client-savings')
    const shown = async (id: string) => Number((await page.textContent(id))!.replace(/[^0-9.]/g, ''))
    const ledger = await call<{
      lifetime: { savings: number }
      month_to_date: { savings: number }
      series: { day: string; savings: number }[]
    }>(worker.url, worker.adminToken, 'GET', `/api/client/${acme.id}/savings?range=daily&periods=60`)
    expect(ledger.status).toBe(200)
    const handMade = rows.map((r) => ({ ...r, savings: r.baseline - r.primary - r.replica - r.overlap }))
    const live = ledger.body.series.filter((s) => !days.includes(s.day))
    const expected = summarize(handMade, Date.now())
    for (const r of handMade) {
      expect(ledger.body.series.find((s) => s.day === r.day)?.savings).toBeCloseTo(r.savings, 6)
    }
    expect(ledger.body.lifetime.savings).toBeCloseTo(
      expected.lifetime.savings + live.reduce((t, s) => t + s.savings, 0),
      6,
    )
    expect(await shown('#savings-lifetime')).toBeCloseTo(ledger.body.lifetime.savings, 2)
    expect(await shown('#savings-mtd')).toBeCloseTo(ledger.body.month_to_date.savings, 2)
    expect(await page.$$('#savings-chart circle')).not.toHaveLength(0)
  })

  it('downloads the switch history and savings as CSV', async () => {
    const { page } = browser
    await page.goto(`${worker.url}/c/${acme.id}/switches`)
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-switches')])
    const csv = await readFile((await download.path())!, 'utf8')
    expect(csv.split('\r\n')[0]).toBe(
      'time_utc,agent_id,old_instance_id,new_instance_id,from_mode,to_mode,from_pool,to_pool,trigger,new_price_usd_h,savings_impact_usd_h,downtime_ms',
    )
    await page.goto(`${worker.url}/c/${acme.id}/savings`)
    const [savings] = await Promise.all([page.waitForEvent('download'), page.click('#export-savings')])
    const [header, ...rows] = (await readFile((await savings.path())!, 'utf8')).trim().split('\r\n')
    expect(header).toBe('day,agent_id,baseline_cost_usd,primary_cost_usd,replica_cost_usd,overlap_cost_usd,savings_usd')
    // The four finished days written above, and the running agent's live days (today, and yesterday
    // when the run spans midnight).
    const liveDays = [0, 1].map((d) => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10))
    expect(rows.filter((r) => !liveDays.includes(r.slice(0, 10)))).toHaveLength(4)
    expect(rows.length).toBeGreaterThan(4)
    for (const row of rows) expect(row.split(',')[1]).toBe(acme.agentId)
  })

  it("keeps a client user out of another client's agent", async () => {
    const other = await call<{ client: { id: string; token: string } }>(
      worker.url,
      worker.adminToken,
      'POST',
      '/api/admin/clients/create',
      { name: 'Other Inc' },
    )
    const otherAgent = await registerAgent(
      worker.url,
      other.body.client.token,
      'other-web-1',
      'i-0other00000000001',
    )
    const invite = await call<{ inviteUrl: string }>(
      worker.url,
      worker.adminToken,
      'POST',
      `/api/client/${acme.id}/users/invite`,
      { email: 'dev@acme.example', role: 'viewer' },
    )
    expect(invite.status).toBe(201)
    const user = await openBrowser({ width: 390, height: 800 })
    try {
      await user.page.goto(invite.body.inviteUrl)
      await user.page.fill('#password', 'a long viewer password')
      await Promise.all([user.page.waitForURL(/\/login$/), user.page.click('button[type=submit]')])
      await login(
        user.page,
        worker.url,
        'dev@acme.example',
        'a long viewer password',
        new RegExp(`/c/${acme.id}$`),
      )
      await user.page.screenshot({ path: `${SHOTS}/client-overview-phone.png`, fullPage: true })
      expect((await user.page.goto(`${worker.url}/c/${acme.id}/agents/${otherAgent}`))!.status()).toBe(404)
      expect(
        (await user.page.goto(`${worker.url}/c/${other.body.client.id}/agents/${otherAgent}`))!.status(),
      ).toBe(404)
      expect((await user.page.goto(`${worker.url}/admin`))!.status()).toBe(404)
      const api = await user.page.evaluate(
        async (id) => (await fetch(`/api/client/agents/${id}`)).status,
        otherAgent,
      )
      expect(api).toBe(404)
      expect((await user.page.goto(`${worker.url}/c/${acme.id}/agents/${acme.agentId}`))!.status()).toBe(200)
      expect(await user.page.$('#agent-settings button[type=submit]')).toBeNull()
    } finally {
      await user.close()
    }
  })

  it('renders the main pages (screenshots in test-results/dashboard)', async () => {
    const { page } = browser
    const pages = {
      'admin-overview': '/admin',
      'admin-clients': '/admin/clients',
      'admin-instances': '/admin/instances',
      'admin-activity': '/admin/activity',
      'admin-health': '/admin/health',
      'admin-engine': '/admin/engine',
      'client-overview': `/c/${acme.id}`,
      'client-agents': `/c/${acme.id}/agents`,
      'client-agent': `/c/${acme.id}/agents/${acme.agentId}`,
      'client-instance-30d': `/c/${acme.id}/instances/${acme.instanceId}?range=30d`,
      'client-replicas': `/c/${acme.id}/replicas`,
      'client-decisions': `/c/${acme.id}/decisions`,
      'client-switches': `/c/${acme.id}/switches`,
      'client-notifications': `/c/${acme.id}/notifications`,
      'client-settings': `/c/${acme.id}/settings`,
      'client-install': `/c/${acme.id}/install`,
      account: '/account',
    }
    for (const [name, path] of Object.entries(pages)) {
      const res = await page.goto(`${worker.url}${path}`)
      expect(res!.status(), path).toBe(200)
      await shot(name)
    }
    await page.goto(`${worker.url}/c/${acme.id}/install`)
    expect(await page.textContent('#install-command')).toContain(
      `curl -fsSL ${worker.url}/agent/install.sh | sudo bash -s -- --server ${worker.url} --token`,
    )
  })

  it('signs out: the session ends and pages redirect to /login again', async () => {
    const { page } = browser
    await page.goto(`${worker.url}/admin`)
    await Promise.all([page.waitForURL(/\/login$/), page.click('#logout')])
    await page.goto(`${worker.url}/admin`)
    expect(new URL(page.url()).pathname).toBe('/login')
  })
})
