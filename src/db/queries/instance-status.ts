/**
 * When an instance ends. AWS reclaims an interrupted instance at its notice's time, up to minutes after
 * the control plane promoted its replacement: until then the row says `terminating`, with that time as
 * `terminated_at`, so that no page, API or query calls it terminated while EC2 still runs (and bills) it.
 * A `terminating` row past its time IS terminated: every read takes it so (`statusAt`), and the 5-minute
 * cron writes it (flows/instances.ts, `settleEndedInstances`).
 */
import { sql } from 'drizzle-orm'
import { instances, type INSTANCE_STATUSES } from '../schema'

export type InstanceStatus = (typeof INSTANCE_STATUSES)[number]

/** The status of an instance that ends (ended) at `endsAt`, as true at `now`; epoch ms. */
export function endingStatus(endsAt: number, now: number): 'terminating' | 'terminated' {
  return endsAt > now ? 'terminating' : 'terminated'
}

/** A row's status as true at `now`. */
export function statusAt(
  row: { status: InstanceStatus; terminatedAt: number | null },
  now: number,
): InstanceStatus {
  return row.status === 'terminating' && row.terminatedAt !== null && row.terminatedAt <= now
    ? 'terminated'
    : row.status
}

/** `statusAt` in SQL, for filters and orderings. */
export function statusAtSql(now: number) {
  return sql<InstanceStatus>`(case when ${instances.status} = 'terminating' and ${instances.terminatedAt} <= ${now} then 'terminated' else ${instances.status} end)`
}
