/**
 * Durations of a switch from the agent's own clock (its absolute times may be wrong; differences of
 * its times are right). Pure.
 */

export interface SwitchTimes {
  initiatedAt: number | null
  readyAt: number | null
  trafficSwitchedAt: number | null
  oldTerminatedAt: number | null
}

/**
 * Downtime: from the old instance no longer serving to the new one serving. With an Elastic IP move
 * (`traffic_switched_at`) the gap is the move itself, bounded by ready → switched; without one, the old
 * instance stops serving when its termination begins, the new one serves when ready. An emergency
 * replacement (launched during a notice, never waited on until ready) serves from the move: the gap
 * is from the old instance's end to the move. Null when nothing says when the new one served.
 */
export function downtimeMs(t: SwitchTimes): number | null {
  if (t.readyAt === null) {
    return t.trafficSwitchedAt !== null && t.oldTerminatedAt !== null
      ? Math.max(0, t.trafficSwitchedAt - t.oldTerminatedAt)
      : null
  }
  if (t.trafficSwitchedAt !== null) return Math.max(0, t.trafficSwitchedAt - t.readyAt)
  if (t.oldTerminatedAt !== null) return Math.max(0, t.readyAt - t.oldTerminatedAt)
  return 0
}

/** Duration: from the start of the switch to the new instance serving. */
export function durationMs(t: SwitchTimes): number | null {
  const end = t.trafficSwitchedAt ?? t.readyAt
  if (t.initiatedAt === null || end === null) return null
  return Math.max(0, end - t.initiatedAt)
}

/** What the control plane knows of a promotion, in its own (server) times. */
export interface PromotionTimes {
  /** The old instance's end: its interruption time, else when it is known to be gone (null: still runs). */
  oldEndedAt: number | null
  /** The workload's Elastic IP now on the promoted instance (EC2 confirmed it). */
  trafficSwitchedAt: number | null
  /** The promoted instance ran with its status checks passing. */
  readyAt: number | null
}

/**
 * Downtime of a promotion (product.md): from the old instance no longer serving (its Elastic IP moved
 * away, or its end, whichever came first) to the promoted one serving (the address on it, else ready).
 * Null until both are known.
 */
export function promotionDowntimeMs(t: PromotionTimes): number | null {
  const stopped = minKnown(t.trafficSwitchedAt, t.oldEndedAt)
  const serving = t.trafficSwitchedAt ?? t.readyAt
  if (stopped === null || serving === null) return null
  return Math.max(0, serving - stopped)
}

function minKnown(a: number | null, b: number | null): number | null {
  if (a === null) return b
  if (b === null) return a
  return Math.min(a, b)
}
