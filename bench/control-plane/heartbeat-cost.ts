/**
 * What one HTTP heartbeat costs in CPU next to a no-op route, in the same run against the workerd
 * runtime directly (wrangler's proxy is a Node process and not counted): rounds of a fixed number of
 * requests, closed loop over 16 connections, alternating the two routes so that drift of the machine
 * falls on both; CPU of the workerd processes (Worker, Durable Objects and local D1 together) before
 * and after each round. Probes beside the two (one D1 read, a heartbeat refused for its token) say where
 * the heartbeat's CPU goes. The no-op route is an unknown path (`GET /__no_such_route`): routing, the
 * request id and the JSON 404 of the error funnel, no auth, no D1, no object.
 */
import { Agent, request } from 'node:http'
import { heartbeatBody } from '../../test/emulators/legacy-bodies'
import { workerdCpuMs } from '../workerd'
import type { SimAgent } from './agents'

export const NO_OP_ROUTE = { method: 'GET', path: '/__no_such_route' } as const

export const CONNECTIONS = 16

export interface HeartbeatCost {
  noOpCpuMsPerRequest: number
  heartbeatCpuMsPerRequest: number
  /** heartbeat / no-op. */
  ratio: number
  /**
   * CPU ms per request of each probe of the same rounds: the no-op, one D1 read (`GET /health`), a
   * heartbeat refused for its token (401: the object asked, then D1), the heartbeat; the differences
   * say where a heartbeat's CPU goes (docs/benchmarks.md).
   */
  profile: Record<string, number>
  requestsPerRound: number
  rounds: number
}

interface Probe {
  name: string
  expected: number
  once: () => Promise<number>
}

/** `pid`: the wrangler dev process group whose workerd is measured; `agents` share the heartbeats. */
export async function measureHeartbeatCost(
  runtimeUrl: string,
  pid: number,
  agents: readonly SimAgent[],
  requestsPerRound = 1_000,
  rounds = 3,
): Promise<HeartbeatCost> {
  const pool = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  let next = 0
  const heartbeat = (headers: (a: SimAgent) => Record<string, string>) => () => {
    const agent = agents[next++ % agents.length]!
    return send(
      pool,
      runtimeUrl,
      'POST',
      `/api/agents/${agent.agentId}/heartbeat`,
      headers(agent),
      JSON.stringify(heartbeatBody(agent.identity)),
    )
  }
  const probes: Probe[] = [
    {
      name: 'no-op',
      expected: 404,
      once: () => send(pool, runtimeUrl, NO_OP_ROUTE.method, NO_OP_ROUTE.path, {}, null),
    },
    {
      name: 'health (one D1 read)',
      expected: 200,
      once: () => send(pool, runtimeUrl, 'GET', '/health', {}, null),
    },
    {
      name: 'heartbeat, unknown token (401)',
      expected: 401,
      once: heartbeat((a) => ({ ...a.headers, Authorization: 'Bearer sgc_not-a-token' })),
    },
    { name: 'heartbeat', expected: 200, once: heartbeat((a) => a.headers) },
  ]
  // Warm every path (isolate, objects, D1 pages) before counting.
  for (const p of probes) await closedLoop(p.once, Math.max(200, agents.length), p.expected)
  const cpuMs = new Map(probes.map((p) => [p.name, 0]))
  for (let round = 0; round < rounds; round++) {
    for (const p of probes)
      cpuMs.set(
        p.name,
        cpuMs.get(p.name)! + (await cpuOf(pid, () => closedLoop(p.once, requestsPerRound, p.expected))),
      )
  }
  pool.destroy()
  const total = requestsPerRound * rounds
  const noOpMs = cpuMs.get('no-op')!
  const heartbeatMs = cpuMs.get('heartbeat')!
  return {
    noOpCpuMsPerRequest: noOpMs / total,
    heartbeatCpuMsPerRequest: heartbeatMs / total,
    ratio: heartbeatMs / Math.max(1, noOpMs),
    profile: Object.fromEntries(
      [...cpuMs].map(([name, ms]) => [name, Math.round((ms / total) * 1000) / 1000]),
    ),
    requestsPerRound,
    rounds,
  }
}

/** workerd CPU (ms, /proc) of the process group `pid` spent while `run` ran. */
export async function cpuOf(pid: number, run: () => Promise<void>): Promise<number> {
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
