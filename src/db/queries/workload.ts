/**
 * A stateful agent's workload as it last reported it: data volumes, managed interface, rolling
 * snapshots (newest first, paged) and how fresh the newest completed one is against its RPO. Scoped by
 * client and agent.
 */
import { and, count, desc, eq } from 'drizzle-orm'
import type { Database } from '../client'
import { rollingSnapshots, workloadInterfaces, workloadVolumes } from '../schema'
import { offsetOf, type PageOf } from './paging'

type Owner = { clientId: string; agentId: string }
type SnapshotRow = Omit<typeof rollingSnapshots.$inferSelect, 'clientId' | 'agentId'>

const snapshotColumns = {
  snapshotId: rollingSnapshots.snapshotId,
  volumeId: rollingSnapshots.volumeId,
  device: rollingSnapshots.device,
  startedAt: rollingSnapshots.startedAt,
  state: rollingSnapshots.state,
  completedAt: rollingSnapshots.completedAt,
  updatedAt: rollingSnapshots.updatedAt,
}

const ownSnapshots = (owner: Owner) =>
  and(eq(rollingSnapshots.agentId, owner.agentId), eq(rollingSnapshots.clientId, owner.clientId))

/**
 * The data volumes by device, the managed interface (null: none reported) and the newest completed
 * rolling snapshot (what an interruption without a replica restores from; null: none), in one round trip.
 */
export async function workloadOf(db: Database, owner: Owner) {
  const [volumes, interfaces, newest] = await db.batch([
    db
      .select({
        volumeId: workloadVolumes.volumeId,
        device: workloadVolumes.device,
        sizeGib: workloadVolumes.sizeGib,
        az: workloadVolumes.az,
        deleteOnTermination: workloadVolumes.deleteOnTermination,
        updatedAt: workloadVolumes.updatedAt,
      })
      .from(workloadVolumes)
      .where(and(eq(workloadVolumes.agentId, owner.agentId), eq(workloadVolumes.clientId, owner.clientId)))
      .orderBy(workloadVolumes.device),
    db
      .select({
        eniId: workloadInterfaces.eniId,
        privateIp: workloadInterfaces.privateIp,
        subnetId: workloadInterfaces.subnetId,
        updatedAt: workloadInterfaces.updatedAt,
      })
      .from(workloadInterfaces)
      .where(
        and(eq(workloadInterfaces.agentId, owner.agentId), eq(workloadInterfaces.clientId, owner.clientId)),
      ),
    db
      .select(snapshotColumns)
      .from(rollingSnapshots)
      .where(and(ownSnapshots(owner), eq(rollingSnapshots.state, 'completed')))
      .orderBy(desc(rollingSnapshots.startedAt))
      .limit(1),
  ])
  return { volumes, interface: interfaces[0] ?? null, newestSnapshot: newest[0] ?? null }
}

/** The rolling snapshots, newest first. */
export async function snapshotsOf(
  db: Database,
  owner: Owner,
  q: { page: number; limit: number },
): Promise<PageOf<SnapshotRow>> {
  const [items, [total]] = await db.batch([
    db
      .select(snapshotColumns)
      .from(rollingSnapshots)
      .where(ownSnapshots(owner))
      .orderBy(desc(rollingSnapshots.startedAt), rollingSnapshots.snapshotId)
      .limit(q.limit)
      .offset(offsetOf(q)),
    db.select({ n: count() }).from(rollingSnapshots).where(ownSnapshots(owner)),
  ])
  return { items, total: total?.n ?? 0, page: q.page, limit: q.limit }
}

/**
 * How old the newest completed snapshot is at `now` (its content is the volume's at its start), and
 * whether that is within the RPO: what an interruption now would lose at most. Null age: none yet.
 */
export function snapshotFreshness(
  newest: Pick<SnapshotRow, 'startedAt'> | null,
  rpoMinutes: number,
  now: number,
): { ageSeconds: number | null; withinRpo: boolean } {
  if (!newest) return { ageSeconds: null, withinRpo: false }
  const ageSeconds = Math.max(0, Math.round((now - newest.startedAt) / 1000))
  return { ageSeconds, withinRpo: ageSeconds <= rpoMinutes * 60 }
}
