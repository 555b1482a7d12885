/**
 * The stateful mode's start (issue 15): an emergency replacement first takes the workload's data and
 * address back (restore.ts), then the inventory is established and reported (inventory.ts). A switch
 * waits until both settled (commands.ts): it moves what they make, and read halfway it would plan the
 * image's copy of a volume or the interrupted instance's old interface (in another AZ after a restore
 * there, so it cannot move) instead of the workload's.
 */
import type { ActionContext } from '../context'
import { establishInventory } from './inventory'
import { restoreIfReplacement } from './restore'

export interface StatefulStart {
  /** Starts the restore and inventory (after the previous start, when the mode is turned on again). */
  begin(): void
  /** Resolves once every start begun so far settled (at once when none was); never rejects. */
  settled(): Promise<void>
}

export function statefulStart(ctx: ActionContext): StatefulStart {
  let last: Promise<void> = Promise.resolve()
  return {
    begin() {
      last = last
        .then(() => restoreIfReplacement(ctx))
        .catch((err: unknown) => ctx.log.error('stateful restore failed', { error: err }))
        .then(() => establishInventory(ctx))
        .then(
          () => undefined,
          (err: unknown) => ctx.log.warn('stateful inventory failed', { error: err }),
        )
    },
    async settled() {
      // A start begun while waiting is waited for too.
      let seen: Promise<void>
      do await (seen = last)
      while (seen !== last)
    },
  }
}
