/**
 * What one HTTP heartbeat costs in CPU next to a no-op route, at the installed agents' real cadence:
 * each agent heartbeats once every 30 s of the Worker's clock, never faster. The Worker runs on a
 * simulated clock (SIM_CLOCK, 30 times real time) in its own wrangler dev, so 200 agents at one
 * heartbeat per real second each offer 200/s, and every piece of an agent's periodic work falls on its
 * heartbeats as often as it does deployed (its alarm moved, D1's copy refreshed, its token proven again
 * in D1): a shortcut that pays per period of time instead of per heartbeat gains nothing here that it
 * does not gain in production. The measured window is 30 minutes of the Worker's clock (the longest
 * such period, the token's trust), back to back after a warm-up; what the window held per heartbeat
 * (alarms set and rung, D1 rows written, object calls) is reported beside the CPU as the evidence.
 *
 * Every probe is sent at the same rate, open loop over 16 connections, against the workerd runtime
 * directly (wrangler's proxy is a Node process and not counted): the no-op route, one D1 read, a
 * heartbeat refused for its token (the object asked, then D1), each measured before and after the
 * heartbeats (machine drift falls on both sides); CPU of the workerd processes (Worker, Durable Objects
 * and local D1 together) before and after each run. The no-op route is an unknown path
 * (`GET /__no_such_route`): routing, the request id and the JSON 404 of the error funnel, no auth, no
 * D1, no object.
 */
import { Agent, request } from 'node:http'
import { heartbeatBody } from '../../test/emulators/legacy-bodies'
import { workerdCpuMs } from '../workerd'
import { newClientToken, registerAgents, type SimAgent } from './agents'
import { startBenchServer, type BenchServer } from './server'
import { percentile, round } from './stats'

export const NO_OP_ROUTE = { method: 'GET', path: '/__no_such_route' } as const

export const CONNECTIONS = 16

/** An installed agent's heartbeat period, ms of the Worker's clock (docs/agent-api.md). */
const HEARTBEAT_PERIOD_MS = 30_000
/** Agents heartbeating, and how much faster than real time the Worker's clock runs. */
const AGENTS = 200
const SIM_SPEED = 30
/** Requests per real second of every probe: each agent's heartbeats HEARTBEAT_PERIOD_MS apart. */
const RATE = (AGENTS * SIM_SPEED * 1000) / HEARTBEAT_PERIOD_MS
/** Heartbeats of each agent before the window (its first proves its token in D1 and writes its facts). */
const WARM_UP_BEATS = 5
/** Real seconds of each probe beside the heartbeats, before and after them. */
const BESIDE_SECONDS = 15
/** After the window the agents fall silent: their alarms record it (120 s simulated) before probes resume. */
const SETTLE_MS = (120_000 / SIM_SPEED) * 2

export interface HeartbeatCost {
  noOpCpuMsPerRequest: number
  heartbeatCpuMsPerRequest: number
  /** heartbeat / no-op. */
  ratio: number
  /**
   * CPU ms per request of each probe: the no-op, one D1 read (`GET /health`), a heartbeat refused for
   * its token (401: the object asked, then D1), the heartbeat; the differences say where a heartbeat's
   * CPU goes (docs/benchmarks.md).
   */
  profile: Record<string, number>
  /** Requests of each probe beside the heartbeats (half before, half after). */
  besideRequests: number
  cadence: Cadence
}

/** How the heartbeats were sent, and what the measured window held per heartbeat. */
export interface Cadence {
  agents: number
  simSpeed: number
  /** Between two heartbeats of one agent, s of the Worker's clock. */
  spacingSimSeconds: number
  windowSimMinutes: number
  heartbeats: number
  /** p99 of send → answer, real ms, counted from the scheduled send (late sends count). */
  p99Ms: number
  perHeartbeat: {
    alarmsSet: number
    /** Alarms that rang: a live agent's should not. */
    alarmsRung: number
    d1RowsWritten: number
    /** Calls of the agent's object (a second one proves a token the object no longer trusts). */
    objectCalls: number
  }
}

interface Probe {
  name: string
  expected: number
  once: (pool: Agent, i: number) => Promise<number>
}

interface Meter {
  by_kind: Record<string, { count: number }>
  alarms_set: Record<string, number>
}

/** Starts its own Worker on the simulated clock, registers the agents, measures, stops it. */
export async function measureHeartbeatCost(windowSimMinutes = 30): Promise<HeartbeatCost> {
  const server = await startBenchServer({ SIM_CLOCK: `${Date.now()}x${SIM_SPEED}` })
  try {
    const agents = await registerAgents(server, await newClientToken(server, 'bench-heartbeat-cost'), AGENTS)
    return await measure(server, agents, windowSimMinutes)
  } finally {
    await server.stop()
  }
}

async function measure(
  server: BenchServer,
  agents: readonly SimAgent[],
  windowSimMinutes: number,
): Promise<HeartbeatCost> {
  const url = server.runtimeUrl
  const bodies = agents.map((a) => JSON.stringify(heartbeatBody(a.identity)))
  const heartbeat =
    (headers: (a: SimAgent) => Record<string, string>) =>
    (pool: Agent, i: number): Promise<number> => {
      const agent = agents[i % agents.length]!
      const path = `/api/agents/${agent.agentId}/heartbeat`
      return send(pool, url, 'POST', path, headers(agent), bodies[i % agents.length]!)
    }
  const beside: Probe[] = [
    {
      name: 'no-op',
      expected: 404,
      once: (pool) => send(pool, url, NO_OP_ROUTE.method, NO_OP_ROUTE.path, {}, null),
    },
    {
      name: 'health (one D1 read)',
      expected: 200,
      once: (pool) => send(pool, url, 'GET', '/health', {}, null),
    },
    {
      name: 'heartbeat, unknown token (401)',
      expected: 401,
      once: heartbeat((a) => ({ ...a.headers, Authorization: 'Bearer sgc_not-a-token' })),
    },
  ]
  const besideCount = BESIDE_SECONDS * RATE
  const cpuMs = new Map(beside.map((p) => [p.name, 0]))
  const runBeside = async () => {
    for (const p of beside)
      cpuMs.set(p.name, cpuMs.get(p.name)! + (await cpuOf(server.pid, () => paced(p, besideCount))))
  }
  // Warm every path (isolate, objects, D1 pages) before counting.
  for (const p of beside) await paced(p, 2 * AGENTS)
  await runBeside()

  const beat: Probe = { name: 'heartbeat', expected: 200, once: heartbeat((a) => a.headers) }
  await paced(beat, WARM_UP_BEATS * AGENTS)
  await Promise.all([
    server.admin('/__debug/do-requests/reset', {}).then((r) => r.body?.cancel()),
    server.resetRowsWritten(),
  ])
  const heartbeats = ((windowSimMinutes * 60_000) / HEARTBEAT_PERIOD_MS) * AGENTS
  let latencies: number[] = []
  const heartbeatMs = await cpuOf(server.pid, async () => {
    latencies = await paced(beat, heartbeats)
  })
  const [meter, rows] = await Promise.all([
    server.admin('/__debug/do-requests').then((r) => r.json() as Promise<Meter>),
    server.rowsWritten(),
  ])
  await new Promise((r) => setTimeout(r, SETTLE_MS))
  await runBeside()

  const noOpMs = cpuMs.get('no-op')! / (2 * besideCount)
  const heartbeatCpu = heartbeatMs / heartbeats
  const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0)
  const kinds = Object.entries(meter.by_kind)
  const countOf = (prefix: string) =>
    kinds.filter(([kind]) => kind.startsWith(prefix)).reduce((total, [, { count }]) => total + count, 0)
  return {
    noOpCpuMsPerRequest: noOpMs,
    heartbeatCpuMsPerRequest: heartbeatCpu,
    ratio: heartbeatCpu / noOpMs,
    profile: {
      ...Object.fromEntries([...cpuMs].map(([name, ms]) => [name, round(ms / (2 * besideCount), 3)])),
      heartbeat: round(heartbeatCpu, 3),
    },
    besideRequests: 2 * besideCount,
    cadence: {
      agents: AGENTS,
      simSpeed: SIM_SPEED,
      spacingSimSeconds: HEARTBEAT_PERIOD_MS / 1000,
      windowSimMinutes,
      heartbeats,
      p99Ms: round(percentile(latencies, 99)),
      perHeartbeat: {
        alarmsSet: round(sum(meter.alarms_set) / heartbeats, 3),
        alarmsRung: round(countOf('alarm ') / heartbeats, 3),
        d1RowsWritten: round(rows.total / heartbeats, 3),
        objectCalls: round(countOf('rpc heartbeat') / heartbeats, 3),
      },
    },
  }
}

/**
 * `count` calls of the probe at RATE per second whatever the answers do (open loop; a call waiting for
 * one of CONNECTIONS is late, not dropped), over connections of its own used in turn (the runtime
 * closes one idle for 5 s, and a request sent on it as it closes fails): call i speaks for agent i mod AGENTS, so each
 * agent's calls are AGENTS / RATE real seconds apart. An answer other than `expected` throws (the
 * figure would be of something else). Send → answer of every call, ms from its scheduled time.
 */
async function paced(probe: Probe, count: number): Promise<number[]> {
  const pool = new Agent({ keepAlive: true, maxSockets: CONNECTIONS, scheduling: 'fifo' })
  const start = performance.now()
  const latencies: number[] = []
  const wrong: string[] = []
  const calls: Promise<void>[] = []
  for (let i = 0; i < count; i++) {
    const at = start + (i * 1000) / RATE
    const wait = at - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    calls.push(
      probe.once(pool, i).then(
        (status) => {
          latencies.push(performance.now() - at)
          if (status !== probe.expected) wrong.push(`HTTP ${status}`)
        },
        (error: unknown) => void wrong.push(String(error)),
      ),
    )
  }
  await Promise.all(calls)
  pool.destroy()
  if (wrong.length > 0)
    throw new Error(`${probe.name}: ${wrong.length} answers not HTTP ${probe.expected} (first: ${wrong[0]})`)
  return latencies
}

/** workerd CPU (ms, /proc) of the process group `pid` spent while `run` ran. */
export async function cpuOf(pid: number, run: () => Promise<unknown>): Promise<number> {
  const before = workerdCpuMs(pid)
  await run()
  return workerdCpuMs(pid) - before
}

/**
 * `count` calls of `once`, CONNECTIONS at a time; an answer other than `expected` throws (the figure
 * would be of something else).
 */
export async function closedLoop(
  once: () => Promise<number>,
  count: number,
  expected: number,
): Promise<void> {
  let left = count
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (left-- > 0) {
        const status = await once()
        if (status !== expected) throw new Error(`closed loop: HTTP ${status}, expected ${expected}`)
      }
    }),
  )
}

/** One request over `pool`; resolves with the status once the body is read. */
export function send(
  pool: Agent,
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | null,
): Promise<number> {
  const url = new URL(baseUrl)
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method, headers, agent: pool }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body ?? undefined)
  })
}
