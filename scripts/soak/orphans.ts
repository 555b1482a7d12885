/**
 * `orphan_instance_hours`: an instance found orphaned at a check (checkInvariants' `orphans`) counts
 * from the previous check (from its launch + the grace when it is younger; from when it was last
 * counted when it was an orphan then too) to this one. An orphan that lives and dies between two checks
 * is not seen.
 */
import { GRACE_MS } from './windows'

export class OrphanClock {
  totalMs = 0
  private lastCheck = Number.NEGATIVE_INFINITY
  private counted = new Map<string, number>()

  /** One check at `at` (simulated epoch ms) that found these orphans. */
  accrue(at: number, orphans: ReadonlyArray<{ instanceId: string; launchTime: number }>): void {
    const counted = new Map<string, number>()
    for (const { instanceId, launchTime } of orphans) {
      const from = this.counted.get(instanceId) ?? Math.max(launchTime + GRACE_MS, this.lastCheck)
      this.totalMs += Math.max(0, at - from)
      counted.set(instanceId, at)
    }
    this.counted = counted
    this.lastCheck = at
  }
}
