/**
 * `lost_workloads`: a workload is lost when it had no running instance (EC2's truth, sampled every loop
 * of the soak) for more than LOST_AFTER_MS outside an interruption's failover (from the notice to
 * FAILOVER_ALLOWANCE_MS after its termination time: the replacement may still be booting).
 */
import type { SentNotice } from './snapshot'
import type { Window } from './windows'

const MINUTE = 60_000
export const LOST_AFTER_MS = 5 * MINUTE
export const FAILOVER_ALLOWANCE_MS = 10 * MINUTE

export interface Outage {
  workload: string
  /** Simulated epoch ms; `to` null while it lasts. */
  from: number
  to: number | null
}

export class AvailabilityTracker {
  private readonly down = new Map<string, number>()
  readonly outages: Outage[] = []

  /** One sample: which workloads have at least one running instance at `at`. */
  observe(at: number, running: ReadonlyMap<string, boolean>): void {
    for (const [workload, isRunning] of running) {
      const since = this.down.get(workload)
      if (!isRunning && since === undefined) this.down.set(workload, at)
      if (isRunning && since !== undefined) {
        this.down.delete(workload)
        this.outages.push({ workload, from: since, to: at })
      }
    }
  }

  /** Outages so far, those still going ending at `at`. */
  outagesUntil(at: number): Outage[] {
    return [...this.outages, ...[...this.down].map(([workload, from]) => ({ workload, from, to: at }))]
  }
}

/** The workloads lost so far (sorted), given the notices sent. */
export function lostWorkloads(
  outages: readonly Outage[],
  notices: readonly SentNotice[],
  at: number,
): string[] {
  const lost = new Set<string>()
  for (const o of outages) {
    const failovers: Window[] = notices
      .filter((n) => n.workload === o.workload)
      .map((n) => [n.sentAt, n.terminationAt + FAILOVER_ALLOWANCE_MS])
    if (uncoveredMs([o.from, o.to ?? at], failovers) > LOST_AFTER_MS) lost.add(o.workload)
  }
  return [...lost].sort()
}

/** The time of [from, to] not covered by any of the windows, ms. */
export function uncoveredMs([from, to]: Window, windows: readonly Window[]): number {
  let cursor = from
  let uncovered = 0
  for (const [a, b] of [...windows].sort((x, y) => x[0] - y[0])) {
    if (b <= cursor) continue
    if (a >= to) break
    if (a > cursor) uncovered += a - cursor
    cursor = Math.max(cursor, b)
    if (cursor >= to) return uncovered
  }
  return uncovered + Math.max(0, to - cursor)
}
