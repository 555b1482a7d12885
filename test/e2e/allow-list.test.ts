/**
 * The allow-list of instance types in real Chromium against the Worker under wrangler dev: set on the
 * agent's settings page, refused when the image cannot boot a type, seen on the instance page's options,
 * cleared back to the default rule.
 */
import { mkdir } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from '../support/clients'
import { queryD1 } from '../support/d1'
import { startTestWorker, type TestWorker } from '../support/worker'
import { call, login, openBrowser, registerAgent, SHOTS, type Browser } from './dashboard-support'

const ADMIN = { email: 'ops@example.com', password: 'correct horse battery staple' }
const INSTANCE = 'i-0a11091157000001'
let worker: TestWorker
let browser: Browser
let clientId = ''
let agentId = ''

/** Pools of m6i.large and m5a.large in zones a and b priced by the operator (as an import would). */
function otherTypesSql(now: number): string {
  const pools = ['m6i.large', 'm5a.large'].flatMap((type) => ['a', 'b'].map((z) => [type, `us-east-1${z}`]))
  return [
    `insert into pools (id, instance_type, region, az, created_at) values ${pools
      .map(([type, az]) => `('${type}.${az}', '${type}', 'us-east-1', '${az}', ${now})`)
      .join(', ')};`,
    `insert into spot_prices (pool_id, price, observed_at) values ${pools
      .map(([type, az], i) => `('${type}.${az}', ${(0.011 + i * 0.001).toFixed(4)}, ${now - 60_000})`)
      .join(', ')};`,
    `insert into ondemand_prices (instance_type, region, price, observed_at) values
      ('m6i.large', 'us-east-1', 0.096, ${now - 60_000}), ('m5a.large', 'us-east-1', 0.086, ${now - 60_000});`,
  ].join('\n')
}

/** `why` and text of each options row on the instance page, by `<type> <az>`. */
async function optionRows(): Promise<Map<string, { why: string; text: string }>> {
  const { page } = browser
  await page.goto(`${worker.url}/c/${clientId}/instances/${INSTANCE}`)
  const rows = await page.$$eval('#options tr[data-type]', (trs) =>
    trs.map((tr) => ({
      key: `${tr.getAttribute('data-type')} ${tr.getAttribute('data-az')}`,
      why: tr.getAttribute('data-why') ?? '',
      text: (tr as HTMLElement).innerText,
    })),
  )
  return new Map(rows.map((r) => [r.key, { why: r.why, text: r.text }]))
}

/** Types `text` into the agent page's allow-list field and saves the settings form. */
async function submitAllowList(text: string, whenSent: () => Promise<unknown>[] = () => []) {
  const { page } = browser
  await page.goto(`${worker.url}/c/${clientId}/agents/${agentId}`)
  await page.fill('#allowed-types', text)
  // Waited for from the click on: begun before the goto, a 'load' wait took the goto's own load.
  await Promise.all([...whenSent(), page.click('#agent-settings button[type=submit]')])
}

/** Saves the allow-list: the page reloads after the API's 200. */
async function saveAllowList(text: string) {
  await submitAllowList(text, () => [browser.page.waitForEvent('load')])
}

/** The error the settings form shows for a refused allow-list. */
async function refusedAllowList(text: string): Promise<string> {
  await submitAllowList(text)
  const shown = await browser.page.waitForFunction(() => {
    const msg = document.querySelector('#agent-settings .msg')?.textContent ?? ''
    return msg !== '' && msg !== 'Saving…' ? msg : null
  })
  return (await shown.jsonValue()) as string
}

async function storedList(): Promise<unknown> {
  const [row] = await queryD1<{ list: string | null }>(
    worker.persistDir,
    `select allowed_instance_types as list from agents where id = '${agentId}'`,
  )
  return row?.list === null || row?.list === undefined ? null : JSON.parse(row.list)
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true })
  worker = await startTestWorker()
  expect((await call(worker.url, worker.adminToken, 'POST', '/api/admin/users', ADMIN)).status).toBe(201)
  const client = await createClient(worker.url, worker.adminToken, 'Allow-list Corp')
  clientId = client.id
  agentId = await registerAgent(worker.url, client.token, 'al-web-1', INSTANCE, {
    instanceType: 'm5.large',
    onDemand: 0.096,
  })
  await queryD1(worker.persistDir, otherTypesSql(Date.now()))
  browser = await openBrowser()
  await login(browser.page, worker.url, ADMIN.email, ADMIN.password, /\/admin$/)
})

afterAll(async () => {
  await browser?.close()
  await worker?.stop()
})

describe('the allow-list of instance types in Chromium', () => {
  it('shows the default rule on the options: both compatible types, each type and AZ with its prices', async () => {
    const rows = await optionRows()
    expect(rows.get('m5.large us-east-1a')?.why).toBe('current')
    for (const type of ['m6i.large', 'm5a.large'])
      for (const az of ['us-east-1a', 'us-east-1b']) {
        const row = rows.get(`${type} ${az}`)
        expect(row?.why, `${type} ${az}`).not.toBe('type')
        expect(row?.text).toMatch(/\$0\.01\d\d\/h/)
      }
    await browser.page.screenshot({ path: `${SHOTS}/options-default-rule.png`, fullPage: true })
  })

  it('refuses a type the image cannot boot on the settings page and stores nothing', async () => {
    expect(await refusedAllowList('m6i.large, m6g.large')).toContain(
      "allowedInstanceTypes.1: m6g.large is arm64; the workload's image boots x86_64",
    )
    expect(await storedList()).toBeNull()
  })

  it('stores the allow-list set on the settings page and the options follow it', async () => {
    await saveAllowList('m6i.large')
    expect(await storedList()).toEqual(['m6i.large'])
    expect(await browser.page.inputValue('#allowed-types')).toBe('m6i.large')
    const rows = await optionRows()
    expect(rows.get('m6i.large us-east-1a')?.why).not.toBe('type')
    expect(rows.get('m5a.large us-east-1a')).toMatchObject({ why: 'type' })
    expect(rows.get('m5a.large us-east-1a')?.text).toContain('not on the allow-list')
    expect(await browser.page.textContent('#options-note')).toContain(
      'the allow-list (m6i.large; m5.large always)',
    )
    await browser.page.screenshot({ path: `${SHOTS}/options-allow-list.png`, fullPage: true })
  })

  it('returns to the default rule when the list is emptied', async () => {
    await saveAllowList('')
    expect(await storedList()).toBeNull()
    const rows = await optionRows()
    expect(rows.get('m5a.large us-east-1a')?.why).not.toBe('type')
  })
})
