/**
 * Heartbeats in open loop: each simulated agent sends on a fixed schedule whatever the answers do, so
 * the offered rate is the aggregate `rate` per second however slow the server gets.
 */
import { heartbeatBody } from '../../test/emulators/legacy-bodies'
import type { SimAgent } from './agents'
import type { BenchServer } from './server'

export interface HeartbeatLoad {
  offered: number
  ok: number
  errors: number
  /** Errors by HTTP status or exception. */
  errorKinds: Record<string, number>
  /** ms of every answered request. */
  latencies: number[]
  seconds: number
}

export async function offerHeartbeats(server: BenchServer, agents: readonly SimAgent[], rate: number, seconds: number): Promise<HeartbeatLoad> {
  const periodMs = (agents.length / rate) * 1000
  const result: HeartbeatLoad = { offered: 0, ok: 0, errors: 0, errorKinds: {}, latencies: [], seconds }
  const fail = (kind: string) => {
    result.errors++
    result.errorKinds[kind] = (result.errorKinds[kind] ?? 0) + 1
  }
  const start = performance.now() + 200
  const end = start + seconds * 1000
  const inflight = new Set<Promise<void>>()
  const send = async (agent: SimAgent, body: string) => {
    const started = performance.now()
    try {
      // Like the installed agent: no answer within 30 s is no answer.
      const res = await fetch(`${server.url}/api/agents/${agent.agentId}/heartbeat`, {
        method: 'POST',
        headers: agent.headers,
        body,
        signal: AbortSignal.timeout(30_000),
      })
      const text = await res.text()
      result.latencies.push(performance.now() - started)
      if (res.status === 200) result.ok++
      else fail(`HTTP ${res.status} ${text.slice(0, 60)}`)
    } catch (error) {
      fail(String((error as { cause?: unknown }).cause ?? error).slice(0, 80))
    }
  }
  await Promise.all(
    agents.map(async (agent, i) => {
      const body = JSON.stringify(heartbeatBody(agent.identity))
      for (let at = start + (i / agents.length) * periodMs; at < end; at += periodMs) {
        const wait = at - performance.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        result.offered++
        const request = send(agent, body)
        inflight.add(request)
        void request.finally(() => inflight.delete(request))
      }
    }),
  )
  await Promise.all(inflight)
  return result
}
