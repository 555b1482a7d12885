/**
 * The dashboard in real Chromium against the Worker under wrangler dev: sign-in, clients, agents,
 * a switch watched live, the price chart, savings, CSV export, tenant isolation, sign-out.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
})
