/**
 * The switches (an agent's workload moved from one instance to another: a reported switch, a
 * promotion). Each function returns its statement, unexecuted: a caller whose change must land with
 * others puts it in its `db.batch([...])`, one alone awaits it.
 * Writes: `switches`.
 */
import { and, eq, isNull } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { switches, type StatefulDetail } from '../../db/schema'
import type { StatefulColumns } from './stateful'

type NewSwitch = typeof switches.$inferInsert

export function recordSwitch(db: Database, row: NewSwitch) {
  return db.insert(switches).values(row)
}

/** The moments learnt after the switch was recorded, with the durations recomputed from them. */
export type SwitchTimes = Partial<
  Pick<
    NewSwitch,
    | 'initiatedAt'
    | 'readyAt'
    | 'trafficSwitchedAt'
    | 'oldTerminatedAt'
    | 'downtimeMs'
    | 'durationMs'
    | 'oldTerminationConfirmedAt'
  >
>

export function updateSwitchTimes(db: Database, switchId: string, times: SwitchTimes) {
  return db.update(switches).set(times).where(eq(switches.id, switchId))
}

/**
 * A stateful switch's record, learnt from a repeated report when the first one lacked it (the row
 * held nothing, or only a notice's drain steps: the caller keeps them in `columns`).
 */
export function setSwitchStateful(db: Database, switchId: string, columns: StatefulColumns) {
  return db.update(switches).set(columns).where(eq(switches.id, switchId))
}

/** The command that carries the switch out on the agent (a promotion's `promote_replica`). */
export function setSwitchCommand(db: Database, switchId: string, commandId: string) {
  return db.update(switches).set({ commandId }).where(eq(switches.id, switchId))
}

/** Why the switch's last step failed; null once it succeeded. */
export function setSwitchError(db: Database, switchId: string, errorMessage: string | null) {
  return db.update(switches).set({ errorMessage }).where(eq(switches.id, switchId))
}

/**
 * The switch never happened in EC2 (its agent refused the command): marked undone with the reason,
 * once. History shows it so, and the ledger and counts read only switches whose `undone_at` is NULL.
 */
export function undoSwitch(db: Database, switchId: string, reason: string, now: number) {
  return db
    .update(switches)
    .set({ undoneAt: now, errorMessage: reason })
    .where(and(eq(switches.id, switchId), isNull(switches.undoneAt)))
}

/** The switch's timed steps as they are now (an interruption's drain added in front of its own). */
export function setSwitchSteps(db: Database, switchId: string, detail: StatefulDetail) {
  return db.update(switches).set({ statefulDetail: detail }).where(eq(switches.id, switchId))
}
