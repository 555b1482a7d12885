/** Driving the agent API as the installed agents do, and reading D1 back. */
import { env, SELF } from 'cloudflare:test'
import { expect } from 'vitest'
import { database } from '../../../src/db/client'
import { pools, priceQuotes } from '../../../src/db/schema'

export const db = () => database(env.DB)
export const ADMIN = { Authorization: `Bearer ${env.ADMIN_TOKEN}` }

export async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const init: RequestInit = { method, headers: { 'Content-Type': 'application/json', ...headers } }
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body)
  const res = await SELF.fetch(`http://spotguard.test${path}`, init)
  const text = await res.text()
  let json: any = null
  try {
    json = JSON.parse(text)
  } catch {
    json = null
  }
  return {
    status: res.status,
    json,
    text,
    contentType: res.headers.get('content-type') ?? '',
    headers: res.headers,
  }
}

export interface TestClient {
  id: string
  token: string
  auth: Record<string, string>
}

/** A new client through the admin route. */
export async function newClient(name = `client-${crypto.randomUUID()}`): Promise<TestClient> {
  const res = await call('POST', '/api/admin/clients/create', { name }, ADMIN)
  if (res.status !== 201) throw new Error(`client create: ${res.status} ${res.text}`)
  return {
    id: res.json.client.id,
    token: res.json.client.token,
    auth: { Authorization: `Bearer ${res.json.client.token}` },
  }
}

export interface TestAgent {
  client: TestClient
  agentId: string
  instanceId: string
}

/** Registers a 4.0.0 agent (from the register-v4 vector's shape) with fresh ids. */
export async function newAgent(
  client?: TestClient,
  overrides: Record<string, unknown> = {},
): Promise<TestAgent> {
  const owner = client ?? (await newClient())
  const instanceId =
    (overrides.instance_id as string) ?? `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
  const res = await call(
    'POST',
    '/api/agents/register',
    {
      instance_id: instanceId,
      instance_type: 't3.medium',
      region: 'us-east-1',
      az: 'us-east-1a',
      mode: 'spot',
      agent_version: '4.0.0',
      logical_agent_id: `logical-${crypto.randomUUID()}`,
      ...overrides,
    },
    owner.auth,
  )
  if (res.status !== 200) throw new Error(`register: ${res.status} ${res.text}`)
  return { client: owner, agentId: res.json.agent_id, instanceId }
}

/**
 * Row counts of every table of the D1 schema (to assert that nothing was written). Liveness
 * notifications are left out: the agents' objects write them on their own timers, not for a request.
 */
export async function tableCounts(): Promise<Record<string, number>> {
  const { results } = await env.DB.prepare(
    "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%' and name != 'd1_migrations'",
  ).all<{ name: string }>()
  const counts: Record<string, number> = {}
  for (const { name } of results) {
    const where = name === 'notifications' ? " where kind not in ('agent_offline', 'agent_online')" : ''
    const row = await env.DB.prepare(`select count(*) as n from "${name}"${where}`).first<{ n: number }>()
    counts[name] = row?.n ?? 0
  }
  return counts
}

/**
 * Fresh prices of the three pools of pricing-report-v4 as `clientId` reported them, written straight
 * into D1 (a pricing report would also start the engine in the background, racing a test's
 * before/after counts).
 */
export async function seedFreshPools(clientId: string): Promise<void> {
  const now = Date.now()
  const prices = { 'us-east-1a': 0.0125, 'us-east-1b': 0.0131, 'us-east-1c': 0.0119 }
  for (const [az, price] of Object.entries(prices)) {
    const id = `t3.medium.${az}`
    await db()
      .insert(pools)
      .values({ id, instanceType: 't3.medium', region: 'us-east-1', az, createdAt: now })
      .onConflictDoNothing()
    await db()
      .insert(priceQuotes)
      .values({ series: id, clientId, price, changedAt: now, reportedAt: now, shared: false })
      .onConflictDoUpdate({
        target: [priceQuotes.series, priceQuotes.clientId],
        set: { price, changedAt: now, reportedAt: now },
      })
  }
}

/** Epoch ms of an ISO time (for expected values). */
export const ms = (iso: string) => new Date(iso).getTime()

/** The command claimed from `instanceId` and reported (success or not), as the 5.x agent does. */
export async function runCommand(
  a: TestAgent,
  commandId: string,
  instanceId: string,
  success: boolean,
  message: string,
) {
  const base = `/api/agents/${a.agentId}/commands/${commandId}`
  const ack = await call('POST', `${base}/ack`, { instance_id: instanceId }, a.client.auth)
  expect(ack.status).toBe(200)
  const done = await call('POST', `${base}/executed`, { success, message }, a.client.auth)
  expect(done.status).toBe(200)
}
