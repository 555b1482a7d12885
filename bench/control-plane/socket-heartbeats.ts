/**
 * Socket heartbeats in open loop (issue 13's wire: `{"type":"heartbeat",...}` answered by
 * `heartbeat_ok`): each agent's socket sends on a fixed schedule so that the offered rate is `rate` per
 * second in all, and the round trip to the answer is timed. A probe first asks which message this
 * build answers: a heartbeat; else a ping (answered by the hibernation API's automatic `pong`, without
 * waking the object); else nothing, and no rate is claimed.
 */
import { LightSocket, type Probe } from '../../test/load/light-socket'
import type { SimAgent } from './agents'

export interface SocketHeartbeatLoad {
  /** What was measured: the heartbeat itself, the ping in its stead, or nothing answered. */
  measured: Probe | 'nothing answered'
  offered: number
  answered: number
  /** Sent and not answered within 10 s of the window's end. */
  unanswered: number
  latencies: number[]
  seconds: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function offerSocketHeartbeats(
  baseUrl: string,
  agents: readonly SimAgent[],
  rate: number,
  seconds: number,
): Promise<SocketHeartbeatLoad> {
  const latencies: number[] = []
  let dropped = 0
  const sockets = agents.map(
    (a) =>
      new LightSocket(
        baseUrl,
        a.headers.Authorization!.replace(/^Bearer /, ''),
        a.agentId,
        a.identity.instanceId,
        {
          answered: (_probe, ms) => latencies.push(ms),
          command: () => {},
          dropped: () => dropped++,
        },
      ),
  )
  await Promise.all(sockets.map((s) => s.open()))
  try {
    const measured = await probe(sockets[0]!)
    if (measured === 'nothing answered')
      return { measured, offered: 0, answered: 0, unanswered: 0, latencies: [], seconds }
    latencies.length = 0
    const periodMs = (sockets.length / rate) * 1000
    const start = performance.now() + 200
    const end = start + seconds * 1000
    let offered = 0
    await Promise.all(
      sockets.map(async (socket, i) => {
        for (let at = start + (i / sockets.length) * periodMs; at < end; at += periodMs) {
          const wait = at - performance.now()
          if (wait > 0) await sleep(wait)
          offered++
          if (measured === 'heartbeat') socket.heartbeat()
          else socket.ping()
        }
      }),
    )
    const waiting = () => sockets.reduce((sum, s) => sum + s.waiting(measured), 0)
    for (let waited = 0; waited < 10_000 && waiting() > 0; waited += 100) await sleep(100)
    return {
      measured,
      offered,
      answered: latencies.length,
      unanswered: waiting() + dropped,
      latencies: [...latencies],
      seconds,
    }
  } finally {
    for (const s of sockets) s.close()
  }
}

/** Which probe this build answers within 2 s: the heartbeat first, the ping next. */
async function probe(socket: LightSocket): Promise<Probe | 'nothing answered'> {
  for (const kind of ['heartbeat', 'ping'] as const) {
    if (kind === 'heartbeat') socket.heartbeat()
    else socket.ping()
    for (let waited = 0; waited < 2_000; waited += 50) {
      if (socket.waiting(kind) === 0) return kind
      await sleep(50)
    }
  }
  return 'nothing answered'
}
