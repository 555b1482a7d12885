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
  /** ms of every answered request. */
  latencies: number[]
  seconds: number
}

export async function offerHeartbeats(server: BenchServer, agents: readonly SimAgent[], rate: number, seconds: number): Promise<HeartbeatLoad> {
  const periodMs = (agents.length / rate) * 1000
  const result: HeartbeatLoad = { offered: 0, ok: 0, errors: 0, latencies: [], seconds }
  const start = performance.now() + 200
  const end = start + seconds * 1000
  const inflight = new Set<Promise<void>>()
  const send = async (agent: SimAgent, body: string) => {
    const started = performance.now()
    try {
      const res = await fetch(`${server.url}/api/agents/${agent.agentId}/heartbeat`, { method: 'POST', headers: agent.headers, body })
      await res.body?.cancel()
      result.latencies.push(performance.now() - started)
      if (res.status === 200) result.ok++
      else result.errors++
    } catch {
      result.errors++
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
