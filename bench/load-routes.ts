/**
 * `npm run bench:load-routes`: what `npm run test:load`'s crowd asks of the runtime, route by route.
 * Its own wrangler dev (a test worker: no inspector, no file watcher, no D1 meter, as the load test
 * runs it), 200 installed 4.0.0 agents of one client; for each route an installed agent calls, rounds
 * of closed-loop requests against the runtime directly, alternating the routes so that drift of the
 * machine falls on all, with the workerd processes' CPU (/proc: Worker, objects and local D1 together)
 * read before and after each round, and the round's wall time (a route that waits on storage, e.g. a
 * disk sync, costs runtime time that is not CPU); the no-op route alongside. Then the crowd's demand:
 * each route's rate in the load test (its installed pollers at their cadence) × its CPU per request,
 * the CPU the runtime must find every second at steady state, and × its wall time per request at
 * CONNECTIONS in flight, the share of the runtime's closed-loop capacity the crowd takes (above 1: it
 * cannot keep up, whatever the machine's other load); a first registration's the same × the ramp's rate.
 * Writes bench/results/load-routes.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { Agent } from 'node:http'
import { join } from 'node:path'
import { ROOT } from '../scripts/fleet/control-plane'
import { LEGACY_CADENCE } from '../test/emulators/legacy-agent'
import { heartbeatBody, pricingBody, registerBody } from '../test/emulators/legacy-bodies'
import { startTestWorker } from '../test/support/worker'
import { identityOf, newClientToken, PRICES, registerAgents, type SimAgent } from './control-plane/agents'
import { closedLoop, CONNECTIONS, cpuOf, NO_OP_ROUTE, send } from './control-plane/heartbeat-cost'
import { round } from './control-plane/stats'
import { machineLine } from './machine'

const AGENTS = 200
const REQUESTS_PER_ROUND = Number(process.env.BENCH_ROUTE_REQUESTS ?? 400)
const ROUNDS = 2
/** The load test's crowd (test/load/load.test.ts, fleet.ts): 500 installed pollers, every fifth a 3.2.0. */
const INSTALLED = 500
const SHARE_4_0_0 = 0.8
/** The load test's ramp: agents registered per second (LOAD_RAMP_SECONDS: 8 a second). */
const RAMP_PER_SECOND = 8

interface Route {
  name: string
  /** Calls per second of one installed agent (null: not part of the steady crowd). */
  ratePerAgent: number | null
  expected: number
  /** One request for the agent `agent`. */
  call(pool: Agent, agent: SimAgent): Promise<number>
}

const json = { 'Content-Type': 'application/json' }

function routes(runtimeUrl: string, token: string): Route[] {
  const get = (path: string) => (pool: Agent, a: SimAgent) =>
    send(pool, runtimeUrl, 'GET', `/api/agents/${a.agentId}/${path}`, a.headers, null)
  const post = (path: string, body: (a: SimAgent) => unknown) => (pool: Agent, a: SimAgent) =>
    send(pool, runtimeUrl, 'POST', `/api/agents/${a.agentId}/${path}`, a.headers, JSON.stringify(body(a)))
  const register = (identity: SimAgent['identity']) => (pool: Agent) =>
    send(
      pool,
      runtimeUrl,
      'POST',
      '/api/agents/register',
      { ...json, Authorization: `Bearer ${token}` },
      JSON.stringify(registerBody(identity)),
    )
  return [
    {
      name: 'no-op',
      ratePerAgent: null,
      expected: 404,
      call: (pool) => send(pool, runtimeUrl, NO_OP_ROUTE.method, NO_OP_ROUTE.path, {}, null),
    },
    {
      name: 'pending-commands',
      ratePerAgent: 1 / LEGACY_CADENCE.pendingCommands,
      expected: 200,
      call: get('pending-commands'),
    },
    {
      name: 'heartbeat',
      ratePerAgent: 1 / LEGACY_CADENCE.heartbeat,
      expected: 200,
      call: post('heartbeat', (a) => heartbeatBody(a.identity)),
    },
    {
      name: 'replicas',
      ratePerAgent: SHARE_4_0_0 / LEGACY_CADENCE.replicaPoll,
      expected: 200,
      call: get('replicas?status=launching'),
    },
    { name: 'config', ratePerAgent: 1 / LEGACY_CADENCE.config, expected: 200, call: get('config') },
    {
      name: 'pricing-report',
      ratePerAgent: 1 / LEGACY_CADENCE.pricing,
      expected: 200,
      call: post('pricing-report', (a) => pricingBody(a.identity, PRICES.spot, PRICES.onDemand)),
    },
    {
      name: 'register (again)',
      ratePerAgent: null,
      expected: 200,
      call: (pool, a) => register(a.identity)(pool),
    },
    {
      name: 'register (first)',
      ratePerAgent: null,
      expected: 200,
      call: (pool) => register(identityOf(token))(pool),
    },
  ]
}

const worker = await startTestWorker()
try {
  const token = await newClientToken(worker, 'load-routes')
  const agents = await registerAgents({ url: worker.runtimeUrl }, token, AGENTS)
  const pool = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  const all = routes(worker.runtimeUrl, token)
  const loadBefore = loadavg()[0]!
  const cpuMs = new Map<string, number>()
  const wallMs = new Map<string, number>()
  for (let pass = -1; pass < ROUNDS; pass++) {
    for (const route of all) {
      let next = 0
      const once = () => route.call(pool, agents[next++ % agents.length]!)
      // Pass -1 warms every path (isolate, objects, D1 pages) and is not counted.
      const count = pass < 0 ? AGENTS : REQUESTS_PER_ROUND
      const startedAt = performance.now()
      const ms = await cpuOf(worker.pid, () => closedLoop(once, count, route.expected))
      if (pass < 0) continue
      cpuMs.set(route.name, (cpuMs.get(route.name) ?? 0) + ms)
      wallMs.set(route.name, (wallMs.get(route.name) ?? 0) + performance.now() - startedAt)
    }
  }
  pool.destroy()
  const measured = REQUESTS_PER_ROUND * ROUNDS
  const perRequest = (name: string) => cpuMs.get(name)! / measured
  /** Closed-loop requests per second of the route alone. */
  const ceiling = (name: string) => (measured * 1000) / wallMs.get(name)!
  const crowd = all
    .filter((r) => r.ratePerAgent !== null)
    .map((r) => {
      const rps = INSTALLED * r.ratePerAgent!
      return {
        route: r.name,
        rps: round(rps),
        cpu_ms_per_s: round(rps * perRequest(r.name)),
        capacity_share: round(rps / ceiling(r.name), 3),
      }
    })
  const results = {
    cpu_ms_per_request: Object.fromEntries(all.map((r) => [r.name, round(perRequest(r.name), 3)])),
    vs_no_op: Object.fromEntries(
      all.map((r) => [r.name, round(perRequest(r.name) / perRequest('no-op'), 2)]),
    ),
    closed_loop_rps: Object.fromEntries(all.map((r) => [r.name, round(ceiling(r.name))])),
    crowd: {
      installed_agents: INSTALLED,
      offered_rps: round(crowd.reduce((s, r) => s + r.rps, 0)),
      cpu_ms_per_s: round(crowd.reduce((s, r) => s + r.cpu_ms_per_s, 0)),
      capacity_share: round(
        crowd.reduce((s, r) => s + r.capacity_share, 0),
        3,
      ),
      by_route: crowd,
    },
    ramp: {
      registrations_per_s: RAMP_PER_SECOND,
      cpu_ms_per_s: round(RAMP_PER_SECOND * perRequest('register (first)')),
      capacity_share: round(RAMP_PER_SECOND / ceiling('register (first)'), 3),
    },
    requests_per_route: REQUESTS_PER_ROUND * ROUNDS,
    connections: CONNECTIONS,
    load_average_1m_before: round(loadBefore),
    load_average_1m_after: round(loadavg()[0]!),
    machine: machineLine(),
  }
  console.log(JSON.stringify(results, null, 2))
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
  writeFileSync(join(ROOT, 'bench', 'results', 'load-routes.json'), `${JSON.stringify(results, null, 2)}\n`)
} finally {
  await worker.stop()
}
