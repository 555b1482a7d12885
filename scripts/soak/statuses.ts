/**
 * Invariant (d), and the replica half of (b): D1's instance rows match EC2 (`active` ↔ pending/running,
 * `terminated` ↔ shutting-down/terminated, `terminating` ↔ running until its announced end and
 * `terminated` from then on, or, without an announced end, confirmed ended once EC2 ended it; an id EC2
 * does not know is a divergence), a replica ended in D1 does not run in EC2, one `terminating` is
 * confirmed ended once EC2 ended it, and a live replica neither points at a dead or unknown instance
 * nor stays without one for STUCK_LAUNCH_MS.
 */
import { LIVE_REPLICA, isGone, isUp, iso, type Facts } from './facts'
import type { D1Instance } from './snapshot'

/** A replica still without an instance after this long is stuck. */
export const STUCK_LAUNCH_MS = 30 * 60_000

export function checkStatuses(f: Facts): void {
  for (const row of f.d1.instances) {
    const workload = f.workloadOfAgent.get(row.agentId) ?? '?'
    const e = f.ec2ById.get(row.instanceId)
    const status = statusAt(row, f.at)
    if (!e) {
      f.diverge('d', workload, row.instanceId, 'no such instance', `instance ${row.instanceId} ${status}`)
    } else if (status === 'active' && isGone(e) && f.settled(e.stateSince)) {
      f.diverge('d', workload, row.instanceId, `${e.state} since ${iso(e.stateSince)}`, 'active')
    } else if (
      status === 'terminating' &&
      row.terminatedAt === null &&
      isGone(e) &&
      f.settled(e.stateSince)
    ) {
      // A switch's old host ending itself: someone must confirm the end (switched-away.ts), not leave it.
      f.diverge(
        'd',
        workload,
        row.instanceId,
        `${e.state} since ${iso(e.stateSince)}`,
        'terminating, end never confirmed',
      )
    } else if (status === 'terminated' && isUp(e) && f.settled(row.terminatedAt ?? row.createdAt)) {
      f.diverge('d', workload, row.instanceId, e.state, `terminated at ${iso(row.terminatedAt)}`)
    }
  }
  for (const r of f.d1.replicas) {
    const workload = f.workloadOfAgent.get(r.agentId) ?? '?'
    const subject = `replica:${r.id}`
    const e = r.instanceId ? f.ec2ById.get(r.instanceId) : undefined
    const d1Says = `replica ${r.id} ${r.status}`
    if (r.status === 'terminating') {
      // Decided, and EC2 runs it until it is terminated: once EC2 ended it, someone must say so.
      if (e && isGone(e) && f.settled(e.stateSince))
        f.diverge(
          'd',
          workload,
          subject,
          `${e.instanceId} ${e.state} since ${iso(e.stateSince)}`,
          `${d1Says}, end never confirmed`,
        )
    } else if (!LIVE_REPLICA.has(r.status)) {
      if ((r.status === 'terminated' || r.status === 'failed') && e && isUp(e) && f.settled(e.launchTime))
        f.diverge('d', workload, subject, `${e.instanceId} ${e.state}`, d1Says)
    } else if (!r.instanceId) {
      if (r.createdAt + STUCK_LAUNCH_MS <= f.at)
        f.diverge(
          'b',
          workload,
          subject,
          'no instance launched for it',
          `${d1Says} since ${iso(r.createdAt)}`,
        )
    } else if (!e) {
      f.diverge('b', workload, subject, `no instance ${r.instanceId}`, `${d1Says} on ${r.instanceId}`)
    } else if (isGone(e) && f.settled(e.stateSince)) {
      f.diverge('b', workload, subject, `${e.instanceId} ${e.state} since ${iso(e.stateSince)}`, d1Says)
    }
  }
}

/** D1's status as true at `at`: a `terminating` row past its announced end says terminated. */
export function statusAt(row: D1Instance, at: number): D1Instance['status'] {
  return row.status === 'terminating' && row.terminatedAt !== null && row.terminatedAt <= at
    ? 'terminated'
    : row.status
}
