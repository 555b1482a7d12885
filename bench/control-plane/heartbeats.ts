/**
 * Heartbeats in open loop: each simulated agent sends on a fixed schedule whatever the answers do, so
 * the offered rate is the aggregate `rate` per second however slow the server gets. Latency counts
 * from the scheduled send time (a request waiting for one of the client's 32 connections is late,
 * not absent); no answer within 30 s, as for the installed agent, is an error. More connections only
 * make wrangler dev's proxy fail requests with 503 once the Worker falls behind.
 */
import { Agent, request } from 'node:http'
import { heartbeatBody } from '../../test/emulators/legacy-bodies'
import type { SimAgent } from './agents'

export interface HeartbeatLoad {
  offered: number
  ok: number
  errors: number
  /** Errors by HTTP status or exception. */
  errorKinds: Record<string, number>
  /** ms of every answered request. */
  latencies: number[]
  /** The offered window. */
  seconds: number
  /**
   * From the first scheduled send to the last answer or failure: longer than `seconds` when requests
   * queue, so answers per elapsed second is the rate the server sustained.
   */
  elapsedSeconds: number
}

const TIMEOUT_MS = 30_000

/** `baseUrl`: the door under test (wrangler's proxy or the runtime itself). */
export async function offerHeartbeats(
  baseUrl: string,
  agents: readonly SimAgent[],
  rate: number,
  seconds: number,
): Promise<HeartbeatLoad> {
  const pool = new Agent({ keepAlive: true, maxSockets: 32 })
  const periodMs = (agents.length / rate) * 1000
  const result: HeartbeatLoad = {
    offered: 0,
    ok: 0,
    errors: 0,
    errorKinds: {},
    latencies: [],
    seconds,
    elapsedSeconds: seconds,
  }
  const fail = (kind: string) => {
    result.errors++
    result.errorKinds[kind] = (result.errorKinds[kind] ?? 0) + 1
  }
  const start = performance.now() + 200
  const end = start + seconds * 1000
  let lastSettledAt = start
  const inflight = new Set<Promise<void>>()
  const send = async (agent: SimAgent, body: string, scheduledAt: number) => {
    try {
      const { status, text } = await post(
        pool,
        `${baseUrl}/api/agents/${agent.agentId}/heartbeat`,
        agent.headers,
        body,
        scheduledAt + TIMEOUT_MS,
      )
      result.latencies.push(performance.now() - scheduledAt)
      if (status === 200) result.ok++
      else fail(`HTTP ${status} ${text.slice(0, 60)}`)
    } catch (error) {
      fail(String(error).slice(0, 80))
    }
    lastSettledAt = Math.max(lastSettledAt, performance.now())
  }
  await Promise.all(
    agents.map(async (agent, i) => {
      const body = JSON.stringify(heartbeatBody(agent.identity))
      for (let at = start + (i / agents.length) * periodMs; at < end; at += periodMs) {
        const wait = at - performance.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        result.offered++
        const sent = send(agent, body, at)
        inflight.add(sent)
        void sent.finally(() => inflight.delete(sent))
      }
    }),
  )
  await Promise.all(inflight)
  result.elapsedSeconds = Math.max(seconds, (lastSettledAt - start) / 1000)
  pool.destroy()
  return result
}

/** One POST over the pool; rejects when no answer came by `deadline` (performance.now() ms). */
function post(
  pool: Agent,
  url: string,
  headers: Record<string, string>,
  body: string,
  deadline: number,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: pool, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => {
        clearTimeout(timer)
        resolve({ status: res.statusCode ?? 0, text })
      })
      res.on('error', reject)
    })
    const timer = setTimeout(
      () => req.destroy(new Error('no answer within 30 s')),
      Math.max(0, deadline - performance.now()),
    )
    req.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    req.end(body)
  })
}
