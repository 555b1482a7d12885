/**
 * Which rolling snapshots of the stateful mode stay (issue 15): per data volume of a workload, the newest
 * ROLLING_SNAPSHOTS_KEPT completed ones plus the newest completed one of each of the last
 * DAILY_SNAPSHOT_DAYS UTC days, and every one still pending. Pure: the rolling round (snapshots.ts)
 * deletes the rest, and the hourly cleanup (cleanup.ts) never deletes what this keeps.
 */
import type { SnapshotFacts, Tags } from '../../ec2-operations'

/** The newest completed snapshots kept per data volume, whatever their age. */
export const ROLLING_SNAPSHOTS_KEPT = 4
/** Days (UTC, today included) each of which keeps its newest completed snapshot. */
export const DAILY_SNAPSHOT_DAYS = 7

/** The tags of a rolling snapshot (beside ManagedBy and LogicalAgentId, which the IAM policy scopes by). */
export const ROLE_TAG = 'SpotGuardRole'
export const ROLLING_SNAPSHOT_ROLE = 'rolling-snapshot'
export const AGENT_ID_TAG = 'SpotGuardAgentId'
/** The device the volume is attached at: a volume restored or recreated at that device continues its history. */
export const DEVICE_TAG = 'SpotGuardDevice'

const DAY_MS = 24 * 3600_000

export function isRollingSnapshot(tags: Tags): boolean {
  return tags[ROLE_TAG] === ROLLING_SNAPSHOT_ROLE
}

/**
 * The ids of the rolling snapshots to keep at `now` (epoch ms), of any number of workloads. A data volume
 * is the workload's device (`SpotGuardAgentId` + `SpotGuardDevice`; the volume id without them). Kept
 * besides: any snapshot neither completed nor failed (pending: EC2 is still copying it), and a completed
 * one whose start time is unknown. `error` snapshots are never kept.
 */
export function rollingSnapshotsKept(snapshots: readonly SnapshotFacts[], now: number): Set<string> {
  const kept = new Set<string>()
  const volumes = new Map<string, Array<SnapshotFacts & { startedAt: number }>>()
  for (const s of snapshots) {
    if (s.state === 'error') continue
    if (s.state !== 'completed' || s.startedAt === null) {
      kept.add(s.snapshotId)
      continue
    }
    const key = volumeKey(s)
    const list = volumes.get(key) ?? []
    list.push({ ...s, startedAt: s.startedAt })
    volumes.set(key, list)
  }
  const today = Math.floor(now / DAY_MS)
  for (const list of volumes.values()) {
    list.sort((a, b) => b.startedAt - a.startedAt)
    for (const s of list.slice(0, ROLLING_SNAPSHOTS_KEPT)) kept.add(s.snapshotId)
    const days = new Set<number>()
    for (const s of list) {
      const day = Math.floor(s.startedAt / DAY_MS)
      if (today - day >= DAILY_SNAPSHOT_DAYS || days.has(day)) continue
      days.add(day)
      kept.add(s.snapshotId)
    }
  }
  return kept
}

function volumeKey(s: SnapshotFacts): string {
  const device = s.tags[DEVICE_TAG]
  return device ? `${s.tags[AGENT_ID_TAG] ?? ''}|${device}` : `volume|${s.volumeId ?? s.snapshotId}`
}
