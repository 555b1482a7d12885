/**
 * Support for the dashboard's browser tests: Debian's Chromium through playwright-core (never a
 * downloaded browser), a fresh profile per context, and the agent-API calls a test drives by hand.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'dashboard')

export interface Browser {
  page: Page
  context: BrowserContext
  /** What the next `prompt` (typed confirmation) is answered with. */
  promptAnswer: string | undefined
  close(): Promise<void>
}

/** A new headless Chromium with its own empty profile. */
export async function openBrowser(viewport = { width: 1280, height: 860 }): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'spotguard-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    viewport,
    acceptDownloads: true,
  })
  const page = context.pages()[0] ?? (await context.newPage())
  const browser: Browser = {
    page,
    context,
    promptAnswer: undefined,
    async close() {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    },
  }
  // Confirmation dialogs are part of the flows: accept them (a typed confirmation answers `prompt`).
  page.on('dialog', (d) => void d.accept(d.type() === 'prompt' ? browser.promptAnswer : undefined))
  return browser
}

/** Signs in through the login form and waits for the landing page. */
export async function login(
  page: Page,
  url: string,
  email: string,
  password: string,
  landing: string | RegExp,
) {
  await page.goto(`${url}/login`)
  await page.fill('#email', email)
  await page.fill('#password', password)
  await Promise.all([page.waitForURL(landing), page.click('button[type=submit]')])
}

/** A JSON call with a bearer (client token for the agent API, ADMIN_TOKEN for the operator). */
export async function call<T = unknown>(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T }
}

/**
 * Registers an agent on a spot instance of `type` in us-east-1a through the agent API and reports the
 * prices of its three pools and on-demand once.
 */
export async function registerAgent(
  url: string,
  clientToken: string,
  logical: string,
  instanceId: string,
  type = { instanceType: 't3.medium', onDemand: 0.0416 },
) {
  const reg = await call<{ agent_id: string }>(url, clientToken, 'POST', '/api/agents/register', {
    logical_agent_id: logical,
    instance_id: instanceId,
    instance_type: type.instanceType,
    region: 'us-east-1',
    az: 'us-east-1a',
    mode: 'spot',
    agent_version: '5.0.0',
    hostname: `${logical}.internal`,
  })
  if (reg.status !== 200) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`)
  const agentId = reg.body.agent_id
  await call(url, clientToken, 'POST', `/api/agents/${agentId}/heartbeat`, {
    status: 'online',
    monitored_instances: [instanceId],
  })
  const report = await call(url, clientToken, 'POST', `/api/agents/${agentId}/pricing-report`, {
    instance: {
      instance_id: instanceId,
      instance_type: type.instanceType,
      region: 'us-east-1',
      az: 'us-east-1a',
      mode: 'spot',
      pool_id: `${type.instanceType}.us-east-1a`,
    },
    pricing: {
      on_demand_price: type.onDemand,
      current_spot_price: 0.0125,
      cheapest_pool: null,
      spot_pools: ['a', 'b', 'c'].map((z, i) => ({
        pool_id: `${type.instanceType}.us-east-1${z}`,
        instance_type: type.instanceType,
        az: `us-east-1${z}`,
        price: 0.0125 + i * 0.0006,
      })),
      collected_at: new Date().toISOString(),
    },
  })
  if (report.status !== 200) throw new Error(`pricing-report: ${report.status}`)
  return agentId
}

/** SQL that writes a week of price change points for the three pools (prices are change points). */
export function priceHistorySql(now: number): string {
  const rows: string[] = []
  for (const [i, zone] of ['a', 'b', 'c'].entries()) {
    for (let h = 7 * 24; h >= 1; h -= 3) {
      const price = (0.012 + i * 0.0007 + 0.002 * Math.sin((h + i * 5) / 9)).toFixed(5)
      rows.push(`('t3.medium.us-east-1${zone}', ${price}, ${now - h * 3600_000})`)
    }
  }
  return `insert into spot_prices (pool_id, price, observed_at) values ${rows.join(', ')};`
}
