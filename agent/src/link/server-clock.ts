/**
 * The control plane's clock as this agent last heard it. A command's `expires_at` is the control
 * plane's time, and an agent's host may run minutes off (no NTP, a simulated clock), so the agent
 * compares it with this, not with its own clock: the offset of the last `server_time` heard (the push
 * socket's `hello`, the `X-Server-Time` header of every agent API answer) from the agent's own clock
 * at receipt, kept until the next one. Late by at most the answer's transit; 0 until one is heard.
 */
import type { Clock } from '../clock'

export interface ServerClock {
  /** The control plane said its time was `serverTime` (epoch ms) just now; ignored when not a time. */
  heard(serverTime: number): void
  /** The control plane's now, epoch ms, as last heard. */
  now(): number
}

export function serverClock(clock: Pick<Clock, 'now'>): ServerClock {
  let offset = 0
  return {
    heard(serverTime) {
      if (Number.isFinite(serverTime)) offset = serverTime - clock.now()
    },
    now: () => clock.now() + offset,
  }
}
