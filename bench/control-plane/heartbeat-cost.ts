/**
 * What one HTTP heartbeat costs in CPU next to a no-op route, in the same run against the workerd
 * runtime directly (wrangler's proxy is a Node process and not counted): rounds of a fixed number of
 * requests, closed loop over 16 connections, alternating the two routes so that drift of the machine
 * falls on both; CPU of the workerd processes (Worker, Durable Objects and local D1 together) before
 * and after each round. The no-op route is an unknown path (`GET /__no_such_route`): routing, the
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
  requestsPerRound: number
  rounds: number
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
  const noOp = () => send(pool, runtimeUrl, NO_OP_ROUTE.method, NO_OP_ROUTE.path, {}, null)
  let next = 0
  const heartbeat = () => {
    const agent = agents[next++ % agents.length]!
    return send(
      pool,
      runtimeUrl,
      'POST',
      `/api/agents/${agent.agentId}/heartbeat`,
      agent.headers,
      JSON.stringify(heartbeatBody(agent.identity)),
    )
  }
  // Warm both paths (isolate, objects, D1 pages) before counting.
  await closedLoop(noOp, 200, 404)
  await closedLoop(heartbeat, Math.max(200, agents.length), 200)
  let noOpMs = 0
  let heartbeatMs = 0
  for (let round = 0; round < rounds; round++) {
    noOpMs += await cpuOf(pid, () => closedLoop(noOp, requestsPerRound, 404))
    heartbeatMs += await cpuOf(pid, () => closedLoop(heartbeat, requestsPerRound, 200))
  }
  pool.destroy()
  const total = requestsPerRound * rounds
  return {
    noOpCpuMsPerRequest: noOpMs / total,
    heartbeatCpuMsPerRequest: heartbeatMs / total,
    ratio: heartbeatMs / Math.max(1, noOpMs),
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
