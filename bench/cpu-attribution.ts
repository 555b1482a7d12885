/**
 * CPU attributed to one kind of operation at a time, for the bill's two lines that bill time: Worker
 * CPU (Worker invocations only: fetch and scheduled) and Durable Object duration (an object's handler).
 *
 * Why this method: a Worker invocation's wall time holds its waits on D1 and objects, which Cloudflare
 * does not bill as CPU (and deployed workerd freezes its clock while code runs, so no timer inside the
 * code can measure CPU there either). What counts CPU is the kernel's count for the workerd process
 * (/proc, 10 ms ticks); workerd runs the Worker, every object and local D1 in one process, so this bench
 * drives ONE kind of operation at a time (a closed loop of HTTP requests on one route, socket
 * heartbeats, pings, cron runs) with the agents' sockets open and idle around it, and subtracts the
 * idle baseline measured first: the remainder divided by the count is that operation's CPU. Each is an upper bound of what Cloudflare
 * bills for it (it includes the runtime's HTTP and WebSocket framing, and local D1's SQLite, which a
 * deployed Worker does not run itself); a route that calls an object includes the object's share.
 */
import { heartbeatBody, pricingBody } from '../test/emulators/legacy-bodies'
import { LightSocket, type Probe } from '../test/load/light-socket'
import { newClientToken, PRICES, registerAgents, type SimAgent } from './control-plane/agents'
import { startBenchServer } from './control-plane/server'
import { workerdCpuMs } from './workerd'

export interface OperationCpu {
  count: number
  /** Wall time of the phase, s. */
  seconds: number
  /** workerd CPU per operation above the idle baseline, ms. */
  msEach: number
}

export interface CpuAttribution {
  /** Agents registered (half installed 4.0.0, half 5.x with their sockets open). */
  agents: number
  /** workerd CPU with the sockets open and nothing sent, ms per second of wall time. */
  idleMsPerSecond: number
  /** Worker invocations: HTTP routes by the load clients' route names, and the crons (`cron <spec>`, per run). */
  worker: Record<string, OperationCpu>
  /** Object handlers woken by a socket message, by the request meter's kind. */
  object: Record<string, OperationCpu>
  /** Answered by the runtime without waking the object (not billed). */
  runtime: Record<string, OperationCpu>
}

export const FIVE_MINUTE_CRON = '*/5 * * * *'
export const HOURLY_CRON = '0 * * * *'
const CONCURRENCY = 8
const IDLE_SECONDS = 10

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function attributeCpu(options: { agents: number; requests: number }): Promise<CpuAttribution> {
  const server = await startBenchServer()
  const sockets: LightSocket[] = []
  try {
    const token = await newClientToken(server, 'bench-cpu')
    const legacy = await registerAgents(server, token, options.agents / 2)
    const push = await registerAgents(server, token, options.agents / 2, '5.0.0')
    const waiters = new Map<LightSocket, () => void>()
    for (const agent of push) {
      const socket: LightSocket = new LightSocket(
        server.runtimeUrl,
        token,
        agent.agentId,
        agent.identity.instanceId,
        {
          answered: () => waiters.get(socket)?.(),
          command: () => {},
          dropped: () => {},
        },
      )
      sockets.push(socket)
    }
    await Promise.all(sockets.map((s) => s.open()))
    const http = httpRoutes(server.runtimeUrl, legacy)
    // Warm every path (isolate, objects, D1 pages, the engine's first run of each agent) before counting.
    for (const once of Object.values(http)) await closedLoop(once, legacy.length)
    await server.scheduled(FIVE_MINUTE_CRON)
    await server.scheduled(HOURLY_CRON)
    await roundTrips(sockets, waiters, 'heartbeat', sockets.length)

    const idleStart = workerdCpuMs(server.pid)
    await sleep(IDLE_SECONDS * 1000)
    const idleMsPerSecond = (workerdCpuMs(server.pid) - idleStart) / IDLE_SECONDS
    const phase = async (count: number, run: () => Promise<void>): Promise<OperationCpu> => {
      const cpuBefore = workerdCpuMs(server.pid)
      const started = performance.now()
      await run()
      const seconds = (performance.now() - started) / 1000
      const cpu = workerdCpuMs(server.pid) - cpuBefore - idleMsPerSecond * seconds
      return { count, seconds: round(seconds), msEach: round(Math.max(0, cpu) / count) }
    }

    const worker: Record<string, OperationCpu> = {}
    for (const [route, once] of Object.entries(http))
      worker[route] = await phase(options.requests, () => closedLoop(once, options.requests))
    const reconnects = Math.max(1, Math.round(options.requests / 3 / sockets.length))
    worker['stream (connect)'] = await phase(reconnects * sockets.length, async () => {
      for (let round = 0; round < reconnects; round++) await reconnect(sockets)
    })
    const cronRuns = 5
    for (const cron of [FIVE_MINUTE_CRON, HOURLY_CRON])
      worker[`cron ${cron}`] = await phase(cronRuns, async () => {
        for (let run = 0; run < cronRuns; run++) await server.scheduled(cron)
      })
    const messages = options.requests * 4
    const object = {
      'message heartbeat': await phase(messages, () => roundTrips(sockets, waiters, 'heartbeat', messages)),
    }
    const runtime = {
      ping: await phase(messages, () => roundTrips(sockets, waiters, 'ping', messages)),
    }
    return { agents: options.agents, idleMsPerSecond: round(idleMsPerSecond), worker, object, runtime }
  } finally {
    for (const socket of sockets) socket.close()
    await server.stop()
  }
}

/** One request of each route the installed and push crowds send, by the load clients' route names. */
function httpRoutes(baseUrl: string, agents: readonly SimAgent[]): Record<string, () => Promise<void>> {
  let next = 0
  const call =
    (method: string, path: (a: SimAgent) => string, body?: (a: SimAgent) => unknown) => async () => {
      const agent = agents[next++ % agents.length]!
      const res = await fetch(`${baseUrl}/api/agents/${agent.agentId}${path(agent)}`, {
        method,
        headers: agent.headers,
        body: body ? JSON.stringify(body(agent)) : undefined,
      })
      await res.arrayBuffer()
      if (!res.ok) throw new Error(`${method} ${path(agent)}: HTTP ${res.status}`)
    }
  return {
    heartbeat: call(
      'POST',
      () => '/heartbeat',
      (a) => heartbeatBody(a.identity),
    ),
    'pending-commands': call('GET', () => '/pending-commands'),
    config: call('GET', () => '/config'),
    replicas: call('GET', () => '/replicas?status=launching'),
    'pricing-report': call(
      'POST',
      () => '/pricing-report',
      (a) => pricingBody(a.identity, PRICES.spot, PRICES.onDemand),
    ),
  }
}

/** `count` calls of `once`, CONCURRENCY at a time. */
async function closedLoop(once: () => Promise<void>, count: number): Promise<void> {
  let left = count
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) await once()
    }),
  )
}

/** `count` probes answered in all, each socket sending its next when its last is answered. */
async function roundTrips(
  sockets: readonly LightSocket[],
  waiters: Map<LightSocket, () => void>,
  probe: Probe,
  count: number,
): Promise<void> {
  let left = count
  await Promise.all(
    sockets.map(async (socket) => {
      while (left-- > 0) {
        const answered = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${probe}: no answer in 10 s`)), 10_000)
          waiters.set(socket, () => {
            clearTimeout(timer)
            resolve()
          })
        })
        if (probe === 'heartbeat') socket.heartbeat()
        else socket.ping()
        await answered
      }
    }),
  )
}

/** Each socket closed and opened again: the stream route's upgrade and the object's accept. */
async function reconnect(sockets: readonly LightSocket[]): Promise<void> {
  for (let start = 0; start < sockets.length; start += CONCURRENCY) {
    await Promise.all(
      sockets.slice(start, start + CONCURRENCY).map(async (socket) => {
        socket.close()
        await socket.open()
      }),
    )
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000
}
