/**
 * The stateful mode's start (issue 15): an emergency replacement first takes the workload's data and
 * address back (restore.ts), then the inventory is established and reported (inventory.ts). A switch
 * (commands.ts) and a rolling snapshot round (snapshots.ts) wait until both settled: read halfway, the
 * instance may still hold the image's copy of a volume, and the workload's interface may still be the
 * interrupted instance's (in another AZ after a restore there, so a switch cannot move it). What the
 * restore left behind is deleted once it is confirmed (restore-kept.ts): neither waits for that.
 */
import type { ActionContext } from '../context'
import { establishInventory } from './inventory'
import { restoreIfReplacement } from './restore'
import { deleteKeptAfterRestore } from './restore-kept'

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
        // Not waited for: it waits for the control plane (and the interrupted instance's end).
        .then((restored) => void deleteKeptAfterRestore(ctx, restored))
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
