/**
 * A stateful agent's workload inventory as it reports it: its data volumes and managed interface, and
 * the rolling snapshots it holds. Each report replaces the agent's rows as a whole, in one batch.
 * Writes: `workload_volumes`, `workload_interfaces`, `rolling_snapshots`.
 */
import { and, eq } from 'drizzle-orm'
import type { Database } from '../db/client'
import { runBatch } from '../db/batch'
import { chunksOfRows } from '../db/bound-params'
import { rollingSnapshots, workloadInterfaces, workloadVolumes } from '../db/schema'

type Owner = { clientId: string; agentId: string }

export interface VolumeReport {
  volumeId: string
  device: string
  sizeGib: number
  az: string
  deleteOnTermination: boolean
}

export interface InterfaceReport {
  eniId: string
  privateIp: string
  subnetId: string
}

export interface SnapshotReport {
  snapshotId: string
  volumeId: string
  device: string
  /** EC2's times, epoch ms. */
  startedAt: number
  state: 'pending' | 'completed' | 'error'
  completedAt: number | null
}

/** The agent's data volumes and managed interface (null: none), in place of the ones it reported before. */
export async function replaceVolumes(
  db: Database,
  owner: Owner,
  volumes: readonly VolumeReport[],
  iface: InterfaceReport | null,
  now: number,
): Promise<void> {
  const rows = volumes.map((v) => ({ ...owner, ...v, updatedAt: now }))
  await runBatch(db, [
    db.delete(workloadVolumes).where(ownedBy(workloadVolumes, owner)),
    ...chunksOfRows(rows, 8).map((chunk) => db.insert(workloadVolumes).values(chunk)),
    db.delete(workloadInterfaces).where(ownedBy(workloadInterfaces, owner)),
    ...(iface ? [db.insert(workloadInterfaces).values({ ...owner, ...iface, updatedAt: now })] : []),
  ])
}

/** The rolling snapshots the agent holds, in place of the ones it reported before. */
export async function replaceSnapshots(
  db: Database,
  owner: Owner,
  snapshots: readonly SnapshotReport[],
  now: number,
): Promise<void> {
  const rows = snapshots.map((s) => ({ ...owner, ...s, updatedAt: now }))
  await runBatch(db, [
    db.delete(rollingSnapshots).where(ownedBy(rollingSnapshots, owner)),
    ...chunksOfRows(rows, 9).map((chunk) => db.insert(rollingSnapshots).values(chunk)),
  ])
}

function ownedBy(
  table: typeof workloadVolumes | typeof workloadInterfaces | typeof rollingSnapshots,
  owner: Owner,
) {
  return and(eq(table.agentId, owner.agentId), eq(table.clientId, owner.clientId))
}
