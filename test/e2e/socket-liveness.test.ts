/**
 * Liveness over the push socket, end to end: the agent bundle as a real Node process on a simulated
 * instance, against the control plane under wrangler dev, through a proxy that counts what the agent
 * sends over HTTP and plays the network under its socket (drop, refuse, freeze). Everything runs on
 * one simulated clock, SPEED times real time; assertions read D1, the client API and the proxy.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { scaledClock } from '../fakes/clock'
import { buildBundle } from '../agent/support/process'
import { startScenario, type Scenario } from '../agent/support/scenario'
import { startCountingProxy, type CountingProxy } from '../support/counting-proxy'
import { eventually } from '../support/eventually'
import { startTestWorker, type TestWorker } from '../support/worker'

const SPEED = 20
const MINUTE = 60_000
const clock = scaledClock(Date.now(), SPEED)

let worker: TestWorker
let proxy: CountingProxy
let scenario: Scenario | null = null

beforeAll(async () => {
  await buildBundle()
  worker = await startTestWorker({ SIM_CLOCK: clock.spec })
})
afterEach(async () => {
  await scenario?.close()
  scenario = null
  await proxy?.close()
})
afterAll(() => worker?.stop())

const q = (s: string) => `'${s.replaceAll("'", "''")}'`

/** An agent on the simulated clock, talking to the control plane through a fresh proxy, its socket open. */
async function agentBehindProxy(): Promise<Scenario> {
  proxy = await startCountingProxy(worker.url)
  scenario = await startScenario(
    { ...worker, url: proxy.url },
    { env: { SPOTGUARD_SIM_CLOCK: clock.spec }, clock },
  )
  await socketsOpened(scenario, 1)
  return scenario
}

function socketsOpened(s: Scenario, n: number) {
  return eventually(() => s.agent.lines.filter((l) => l.msg === 'push socket open').length >= n, {
    what: `push socket opened ${n} time(s)`,
  })
}

const httpHeartbeats = () => proxy.count('POST', '/heartbeat')

/** The agent as the client API shows it (status and last seen come from its Durable Object). */
async function shown(agentId: string): Promise<{ status: string; lastHeartbeatAt: number }> {
  const response = await worker.admin(`/api/client/agents/${agentId}`)
  if (!response.ok) throw new Error(`GET agent: HTTP ${response.status}`)
  return (await response.json()) as { status: string; lastHeartbeatAt: number }
}

/** The agent's D1 row and its liveness notifications. */
async function stored(s: Scenario) {
  const [agent] = await s.sql<{ status: string; last_heartbeat_at: number }>(
    `select status, last_heartbeat_at from agents where id = ${q(s.agentId)}`,
  )
  const notifications = await s.sql<{ kind: string }>(
    `select kind from notifications where agent_id = ${q(s.agentId)} and kind in ('agent_offline', 'agent_online') order by created_at`,
  )
  return { ...agent!, notifications: notifications.map((n) => n.kind) }
}

/** Samples what the API shows until `until` (simulated epoch ms). */
async function watch(agentId: string, until: number) {
  const samples: { status: string; ageMs: number }[] = []
  await eventually(
    async () => {
      const agent = await shown(agentId)
      samples.push({ status: agent.status, ageMs: clock.now() - agent.lastHeartbeatAt })
      return clock.now() >= until
    },
    {
      what: 'the simulated time to pass',
      timeoutMs: ((until - clock.now()) / SPEED) * 3 + 30_000,
      intervalMs: 250,
    },
  )
  return samples
}

describe('an agent with its push socket open', () => {
  it('sends no HTTP heartbeat for 10 simulated minutes and stays online, seen ≤ 60 s ago throughout', async () => {
    const s = await agentBehindProxy()
    const start = clock.now()
    const before = httpHeartbeats()
    const samples = await watch(s.agentId, start + 10 * MINUTE)
    expect(samples.length).toBeGreaterThan(20)
    expect(samples.filter((x) => x.status !== 'online')).toEqual([])
    expect(Math.max(...samples.map((x) => x.ageMs))).toBeLessThanOrEqual(MINUTE)
    expect(httpHeartbeats()).toBe(before)
    // The socket heartbeats reached D1's periodic refresh (every 5 to 6 minutes), and nothing went offline.
    const row = await stored(s)
    expect(row).toMatchObject({ status: 'online', notifications: [] })
    expect(row.last_heartbeat_at).toBeGreaterThan(start + 4 * MINUTE)
  })

  it('heartbeats over HTTP the moment its socket is down, and stops once the socket is back', async () => {
    const s = await agentBehindProxy()
    const before = httpHeartbeats()
    proxy.refuseSockets = true
    const droppedAt = Date.now()
    proxy.dropSockets()
    await eventually(() => httpHeartbeats() >= before + 3, {
      what: 'three HTTP heartbeats with the socket down',
    })
    const first = proxy.requests.find(
      (r) => r.method === 'POST' && r.path.endsWith('/heartbeat') && r.at >= droppedAt,
    )!
    // At once, not at the next 30 s tick of the heartbeat loop.
    expect((first.at - droppedAt) * SPEED).toBeLessThan(15_000)

    proxy.refuseSockets = false
    await socketsOpened(s, 2)
    const after = httpHeartbeats()
    const ticks = s.agent.lines.filter((l) => l.msg === 'heartbeat').length
    await eventually(() => s.agent.lines.filter((l) => l.msg === 'heartbeat').length >= ticks + 4, {
      what: 'four more rounds of the heartbeat loop',
    })
    expect(httpHeartbeats()).toBe(after)
    expect(await stored(s)).toMatchObject({ status: 'online', notifications: [] })
  })

  it('whose socket went half-open drops it for a new one and stays online', async () => {
    const s = await agentBehindProxy()
    // A minute of answered pings first: the agent judges silence only on a connection that answered.
    await watch(s.agentId, clock.now() + MINUTE)
    const frozenAt = clock.now()
    proxy.freezeSockets()
    await socketsOpened(s, 2)
    expect(s.agent.lines.some((l) => l.msg === 'push socket silent (no pong), reconnecting')).toBe(true)
    const samples = await watch(s.agentId, frozenAt + 4 * MINUTE)
    expect(samples.filter((x) => x.status !== 'online')).toEqual([])
    expect(await stored(s)).toMatchObject({ status: 'online', notifications: [] })
  })
})

describe('an agent that dies', () => {
  async function offlineWithin(s: Scenario, from: number) {
    await eventually(async () => (await stored(s)).status === 'offline', {
      what: 'the agent offline in D1',
      timeoutMs: 60_000,
      intervalMs: 100,
    })
    // When the object decided it (its simulated time), not when this poll saw it: at 20× a busy
    // machine's second of polling is 20 simulated seconds.
    const [offline] = await s.sql<{ created_at: number }>(
      `select created_at from notifications where agent_id = ${q(s.agentId)} and kind = 'agent_offline'`,
    )
    expect(offline!.created_at - from).toBeLessThanOrEqual(3 * MINUTE)
    expect((await stored(s)).notifications).toEqual(['agent_offline'])
    expect((await shown(s.agentId)).status).toBe('offline')
  }

  it('with its socket closing is offline within 3 simulated minutes, with a notification', async () => {
    const s = await agentBehindProxy()
    await eventually(async () => (await stored(s)).status === 'online', { what: 'online' })
    const killedAt = clock.now()
    await s.agent.stop('SIGKILL')
    await offlineWithin(s, killedAt)
  })

  it('behind a half-open socket (no close ever arrives) is offline within 3 simulated minutes', async () => {
    const s = await agentBehindProxy()
    await eventually(async () => (await stored(s)).status === 'online', { what: 'online' })
    proxy.freezeSockets()
    const frozenAt = clock.now()
    await s.agent.stop('SIGKILL')
    await offlineWithin(s, frozenAt)
  })
})
