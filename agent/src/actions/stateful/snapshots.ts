/**
 * Rolling snapshots of the stateful mode (issue 15): every `rpo_minutes` of the control plane's config
 * (default 15) a snapshot of each data volume of this instance (its attached EBS volumes but the root),
 * at most MAX_PENDING_SNAPSHOTS pending per volume (at the limit the volume is skipped this round, as
 * when EC2 answers ConcurrentSnapshotLimitExceeded); then the retention of snapshots-retention.ts
 * deletes what it does not keep (one an AMI uses, InvalidSnapshot.InUse, stays) and the set held is
 * reported with POST snapshots. A period runs from the newest rolling snapshot of the workload, else the
 * first look is due at once. Off unless `stateful` is true. A round waits for the stateful start
 * (establish.ts): mid-restore, the volume at a workload device may be the image's stale copy.
 */
import { iso } from '../../clock'
import { Ec2Error } from '../../ec2-transport'
import {
  createSnapshot,
  deleteSnapshot,
  describeInstance,
  describeSnapshots,
  type SnapshotFacts,
  type Tags,
} from '../../ec2-operations'
import { messageOf, type ActionContext } from '../context'
import type { StatefulStart } from './establish'
import { dataVolumesOf, type AttachedVolume } from './operations'
import {
  AGENT_ID_TAG,
  DEVICE_TAG,
  ROLE_TAG,
  ROLLING_SNAPSHOT_ROLE,
  rollingSnapshotsKept,
} from './snapshots-retention'

/** How often the agent looks whether a round is due, seconds (the RPO is at least 5 minutes). */
export const SNAPSHOT_CHECK_SECONDS = 60
/** EC2's limit of pending snapshots of one volume (gp2, gp3, io1...). */
export const MAX_PENDING_SNAPSHOTS = 5
/** The RPO when the control plane sends none, minutes (the contract's default). */
export const DEFAULT_RPO_MINUTES = 15

export interface SnapshotRound {
  /** The snapshots requested this round. */
  taken: Array<{ snapshotId: string; volumeId: string; device: string }>
  /** Volumes not snapshotted this round, and why. */
  skipped: Array<{ volumeId: string; device: string; reason: string }>
  deleted: string[]
  /** The rolling snapshots held after the round, as reported. */
  held: SnapshotFacts[]
}

export interface RollingSnapshots {
  /** Runs a round when one is due; null when none was (off, not registered, or within the RPO). */
  runIfDue(): Promise<SnapshotRound | null>
}

/** `start`: the agent's stateful start, which a round waits for (absent: nothing to wait for). */
export function rollingSnapshots(
  ctx: ActionContext,
  start?: Pick<StatefulStart, 'settled'>,
): RollingSnapshots {
  // Epoch ms the current period began; read from EC2 at the first look, then kept here.
  let periodFrom: number | null = null
  let rootDevice: string | null | undefined
  return {
    async runIfDue() {
      await start?.settled()
      const config = ctx.agentConfig()
      const agentId = ctx.link.agentId
      if (!config?.stateful || config.enabled === false || !agentId) return null
      const rpoMs = (config.rpo_minutes ?? DEFAULT_RPO_MINUTES) * 60_000
      periodFrom ??= newestStart(await listRolling(ctx, agentId)) ?? -Infinity
      const now = ctx.clock.now()
      if (now < periodFrom + rpoMs) return null
      // The next round is a period after this one's start, whether or not it went well.
      periodFrom = now
      rootDevice ??= (await describeInstance(ctx.ec2, ctx.self.instanceId))?.rootDevice ?? null
      const volumes = await dataVolumesOf(ctx.ec2, { instanceId: ctx.self.instanceId, rootDevice })
      const round = await snapshotRound(ctx, agentId, volumes, now)
      ctx.link.report('rolling-snapshots', 'POST', '/snapshots', {
        snapshots: round.held.flatMap((s) => (s.volumeId ? [snapshotItem(s, s.volumeId)] : [])),
      })
      ctx.log.info('rolling snapshots', {
        taken: round.taken.length,
        skipped: round.skipped.length,
        deleted: round.deleted.length,
        held: round.held.length,
        rpo_minutes: rpoMs / 60_000,
      })
      return round
    },
  }
}

/** The tags of a rolling snapshot of `device` (a switch across AZs tags its snapshots so too). */
export function rollingSnapshotTags(ctx: ActionContext, agentId: string, device: string): Tags {
  return {
    ManagedBy: 'SpotOptimizer',
    LogicalAgentId: ctx.logicalAgentId,
    SpotGuardManaged: 'true',
    [AGENT_ID_TAG]: agentId,
    [ROLE_TAG]: ROLLING_SNAPSHOT_ROLE,
    [DEVICE_TAG]: device,
  }
}

/** One round: a snapshot of each volume below the pending limit, then the retention. */
async function snapshotRound(
  ctx: ActionContext,
  agentId: string,
  volumes: AttachedVolume[],
  now: number,
): Promise<SnapshotRound> {
  const round: SnapshotRound = { taken: [], skipped: [], deleted: [], held: [] }
  const before = await listRolling(ctx, agentId)
  for (const volume of volumes) {
    const { volumeId } = volume
    const { device } = volume.attachment
    const pending = before.filter((s) => s.volumeId === volumeId && s.state === 'pending').length
    if (pending >= MAX_PENDING_SNAPSHOTS) {
      round.skipped.push({ volumeId, device, reason: `${pending} snapshots pending` })
      ctx.log.warn('rolling snapshot skipped: the volume has as many pending as EC2 allows', {
        volume_id: volumeId,
        device,
        pending,
      })
      continue
    }
    try {
      const snapshotId = await createSnapshot(
        ctx.ec2,
        volumeId,
        `SpotGuard rolling snapshot of ${device} (${volumeId})`,
        rollingSnapshotTags(ctx, agentId, device),
      )
      round.taken.push({ snapshotId, volumeId, device })
    } catch (err) {
      // ConcurrentSnapshotLimitExceeded (pending snapshots this agent did not make fill EC2's limit), or
      // any other refusal: this volume waits for the next round; the others and the retention go on.
      const reason = err instanceof Ec2Error ? err.code : messageOf(err)
      round.skipped.push({ volumeId, device, reason })
      ctx.log.warn('rolling snapshot skipped', { volume_id: volumeId, device, error: messageOf(err) })
    }
  }

  const listed = await listRolling(ctx, agentId)
  const kept = rollingSnapshotsKept(listed, now)
  for (const s of listed) {
    if (kept.has(s.snapshotId)) continue
    try {
      await deleteSnapshot(ctx.ec2, s.snapshotId)
      round.deleted.push(s.snapshotId)
    } catch (err) {
      if (err instanceof Ec2Error && err.kind === 'not_found') {
        round.deleted.push(s.snapshotId)
        continue
      }
      // InvalidSnapshot.InUse: an AMI holds it; it stays and is still reported.
      ctx.log.warn('rolling snapshot kept: EC2 refused to delete it', {
        snapshot_id: s.snapshotId,
        error: messageOf(err),
      })
    }
  }
  const deleted = new Set(round.deleted)
  round.held = listed.filter((s) => !deleted.has(s.snapshotId))
  return round
}

/** This workload's rolling snapshots (any state). */
function listRolling(ctx: ActionContext, agentId: string): Promise<SnapshotFacts[]> {
  return describeSnapshots(ctx.ec2, [
    { name: `tag:${ROLE_TAG}`, values: [ROLLING_SNAPSHOT_ROLE] },
    { name: `tag:${AGENT_ID_TAG}`, values: [agentId] },
  ])
}

function newestStart(snapshots: SnapshotFacts[]): number | null {
  const times = snapshots.flatMap((s) => (s.state === 'error' || s.startedAt === null ? [] : [s.startedAt]))
  return times.length ? Math.max(...times) : null
}

/** One item of POST snapshots (the contract's shape). */
function snapshotItem(s: SnapshotFacts, volumeId: string) {
  const state = s.state === 'completed' || s.state === 'error' ? s.state : 'pending'
  return {
    snapshot_id: s.snapshotId,
    volume_id: volumeId,
    device: s.tags[DEVICE_TAG] ?? '',
    started_at: iso(s.startedAt ?? 0),
    state,
    ...(s.completedAt !== null && { completed_at: iso(s.completedAt) }),
  }
}
