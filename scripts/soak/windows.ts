/**
 * When a workload is legitimately between two states, so the checker does not judge its primary: a
 * switch window runs from the command (or the notice) to its `terminate_wait_seconds` + 60 s after it
 * ended; a Worker outage, to 5 minutes after the Worker is back (D1 cannot follow EC2 while it is down).
 * All times simulated epoch ms.
 */
import type { D1Agent, D1Snapshot, SoakLog } from './snapshot'

export type Window = [number, number]

const MINUTE = 60_000
/** After a switch ends, the old instance lives on for the wait, then this long to be confirmed gone. */
export const AFTER_WAIT_MS = MINUTE
/** After the Worker is back: time for the reports it missed to land. */
export const AFTER_OUTAGE_MS = 5 * MINUTE
/** How long the checker allows for things just changed in EC2 to reach D1. */
export const GRACE_MS = 5 * MINUTE

const OPEN = new Set(['queued', 'delivered', 'acked', 'running'])
const SWITCHING = new Set(['switch', 'promote_replica', 'terminate_instance'])

/** The switch windows of one workload (its agent's commands and switches, the notices sent to it). */
export function switchWindows(
  agent: D1Agent | undefined,
  workload: string,
  d1: D1Snapshot,
  log: SoakLog,
): Window[] {
  const windows: Window[] = []
  if (agent) {
    const waitOf = (seconds: number | null) => (seconds ?? agent.terminateWaitSeconds) * 1000 + AFTER_WAIT_MS
    for (const c of d1.commands) {
      if (c.agentId !== agent.id || !SWITCHING.has(c.commandType)) continue
      const end = OPEN.has(c.status) ? Number.POSITIVE_INFINITY : (c.finishedAt ?? c.expiresAt ?? c.createdAt)
      windows.push([c.createdAt, end + waitOf(c.terminateWaitSeconds)])
    }
    for (const s of d1.switches) {
      if (s.agentId !== agent.id) continue
      const command = d1.commands.find((c) => c.id === s.commandId)
      windows.push([s.receivedAt, s.receivedAt + waitOf(command?.terminateWaitSeconds ?? null)])
    }
  }
  for (const n of log.notices)
    if (n.workload === workload) windows.push([n.sentAt, n.terminationAt + AFTER_WAIT_MS])
  return [...windows, ...outageWindows(log)]
}

/** Each outage, until AFTER_OUTAGE_MS after the Worker came back (open while it is down). */
export function outageWindows(log: SoakLog): Window[] {
  return log.outages.map(([down, up]) => [
    down,
    up === null ? Number.POSITIVE_INFINITY : up + AFTER_OUTAGE_MS,
  ])
}

export function isInside(windows: readonly Window[], at: number): boolean {
  return windows.some(([from, to]) => from <= at && at <= to)
}

/**
 * When D1 could first have heard of something that happened in EC2 at `at`: the end of the outage it fell
 * in (infinity while that outage lasts), else `at` itself.
 */
export function heardAt(log: SoakLog, at: number): number {
  for (const [down, up] of log.outages)
    if (down <= at && (up === null || at < up)) return up ?? Number.POSITIVE_INFINITY
  return at
}
