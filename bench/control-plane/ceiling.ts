/**
 * The most requests per second the dev server answers on this machine through one door (`baseUrl`:
 * wrangler's proxy or the runtime itself), closed loop over 32 keep-alive connections: for a route
 * that does nothing (an unknown path), for GET /health (one D1 `select 1`), and for a heartbeat. It
 * bounds what any open-loop target can reach through that door here.
 */
import { Agent, request } from 'node:http'
import type { SimAgent } from './agents'

const CONNECTIONS = 32

export interface Ceiling {
  no_op_route: number
  health: number
  heartbeat: number
}

export async function measureCeiling(baseUrl: string, agent: SimAgent, seconds = 8): Promise<Ceiling> {
  const heartbeat = JSON.stringify({ status: 'online', monitored_instances: [] })
  return {
    no_op_route: await closedLoopRate(baseUrl, 'GET', '/__no_such_route', {}, null, seconds),
    health: await closedLoopRate(baseUrl, 'GET', '/health', {}, null, seconds),
    heartbeat: await closedLoopRate(
      baseUrl,
      'POST',
      `/api/agents/${agent.agentId}/heartbeat`,
      { ...agent.headers, 'content-type': 'application/json' },
      heartbeat,
      seconds,
    ),
  }
}

async function closedLoopRate(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | null,
  seconds: number,
): Promise<number> {
  const pool = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  const url = new URL(baseUrl)
  const end = Date.now() + seconds * 1000
  let answered = 0
  const once = () =>
    new Promise<void>((resolve) => {
      const req = request(
        { host: url.hostname, port: url.port, path, method, headers, agent: pool },
        (res) => {
          res.resume()
          res.on('end', () => {
            answered++
            resolve()
          })
        },
      )
      req.on('error', () => resolve())
      req.end(body ?? undefined)
    })
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < end) await once()
    }),
  )
  pool.destroy()
  return Math.round(answered / seconds)
}
