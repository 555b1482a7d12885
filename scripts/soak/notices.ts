/**
 * Invariant (c): 10 minutes after a notice's termination time, it led to exactly one switch with trigger
 * `interruption` from the noticed instance; when the workload did not move (no other instance of it
 * runs), a notified failure (an `error` notification of its agent since the notice) stands instead.
 */
import { ids, isUp, iso, type Facts } from './facts'

const MINUTE = 60_000
/** A notice is judged this long after its termination time. */
export const NOTICE_SETTLE_MS = 10 * MINUTE

export function checkNotices(f: Facts): void {
  for (const n of f.log.notices) {
    if (n.terminationAt + NOTICE_SETTLE_MS > f.at) continue
    const agent = f.agentOf.get(n.workload)
    const subject = `notice:${n.instanceId}@${n.terminationAt}`
    const switches = f.d1.switches.filter(
      (s) => s.agentId === agent?.id && s.trigger === 'interruption' && s.oldInstanceId === n.instanceId,
    )
    const moved = f.ec2.instances.filter(
      (i) => i.workload === n.workload && i.instanceId !== n.instanceId && isUp(i),
    )
    const notified = f.d1.notifications.some(
      (x) => x.agentId === agent?.id && x.severity === 'error' && x.createdAt >= n.sentAt,
    )
    const noticeSays = `notice to ${n.instanceId} at ${iso(n.sentAt)}`
    if (switches.length > 1) {
      const recorded = switches.map((s) => `${s.oldInstanceId} → ${s.newInstanceId}`).join('; ')
      f.diverge('c', n.workload, subject, noticeSays, `${switches.length} interruption switches: ${recorded}`)
    } else if (switches.length === 0 && moved.length > 0) {
      f.diverge(
        'c',
        n.workload,
        subject,
        `${noticeSays}; the workload moved to ${ids(moved)}`,
        'no interruption switch recorded',
      )
    } else if (switches.length === 0 && !notified) {
      f.diverge(
        'c',
        n.workload,
        subject,
        `${noticeSays}; the workload did not move`,
        'no switch and no failure notified',
      )
    }
  }
}
