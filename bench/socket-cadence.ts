/**
 * The 5.x agent's cadence on its push socket, by the socket's age in whole seconds: a heartbeat when it
 * opens and every `heartbeatSeconds` after (SOCKET_HEARTBEAT_MS unless a status or fact changes), a
 * ping every PING_INTERVAL_MS from the first interval on (agent/src/link/socket.ts, docs/agent-api.md).
 */
import { PING_INTERVAL_MS } from '../agent/src/link/socket'
import type { Probe } from '../test/load/light-socket'

const PING_SECONDS = PING_INTERVAL_MS / 1000

/** What a socket `ageSeconds` old sends now. */
export function probesDue(ageSeconds: number, heartbeatSeconds: number): Probe[] {
  const due: Probe[] = []
  if (ageSeconds % heartbeatSeconds === 0) due.push('heartbeat')
  if (ageSeconds > 0 && ageSeconds % PING_SECONDS === 0) due.push('ping')
  return due
}
