/**
 * Cleanup: SpotGuard-tagged snapshots older than N days and AMIs older than M days (with their
 * snapshots), never one used by a running managed instance or an active replica, nor the newest AMI
 * of a workload (an emergency launch starts from it: a backup's or a switch's), nor a rolling snapshot
 * of the stateful mode that its retention keeps (stateful/snapshots-retention.ts). Paginated reads.
 */
import { iso } from '../clock'
import {
  deleteSnapshot,
  deregisterImage,
  describeImages,
  describeInstances,
  describeSnapshots,
  type ImageFacts,
} from '../ec2-operations'
import { messageOf, ok, type ActionContext, type ActionResult } from './context'
import { isRollingSnapshot, rollingSnapshotsKept } from './stateful/snapshots-retention'

const DAY_MS = 24 * 3600_000
const MANAGED = { name: 'tag:ManagedBy', values: ['SpotOptimizer'] }

export interface CleanupReport {
  timestamp: string
  snapshots: {
    type: 'snapshots'
    deleted: string[]
    failed: Array<{ id: string; error: string }>
    cutoff_date: string
    error?: string
  }
  amis: {
    type: 'amis'
    deleted_amis: string[]
    deleted_snapshots: string[]
    failed: Array<{ id: string; error: string }>
    cutoff_date: string
    error?: string
  }
}

/** Runs one cleanup and queues its report. */
export async function runCleanup(ctx: ActionContext): Promise<ActionResult> {
  const now = ctx.clock.now()
  const amiCutoff = now - ctx.config.cleanupAmisOlderThanDays * DAY_MS
  const snapshotCutoff = now - ctx.config.cleanupSnapshotsOlderThanDays * DAY_MS
  const report: CleanupReport = {
    timestamp: iso(now),
    snapshots: { type: 'snapshots', deleted: [], failed: [], cutoff_date: iso(snapshotCutoff) },
    amis: { type: 'amis', deleted_amis: [], deleted_snapshots: [], failed: [], cutoff_date: iso(amiCutoff) },
  }
  try {
    // Images in use: any instance of ours that is not gone (replicas are ours too), and this host.
    const live = await describeInstances(
      ctx.ec2,
      [],
      [MANAGED, { name: 'instance-state-name', values: ['pending', 'running', 'stopping', 'stopped'] }],
    )
    const inUse = new Set(live.flatMap((i) => i.imageId ?? []))
    if (ctx.self.amiId) inUse.add(ctx.self.amiId)

    const images = await describeImages(ctx.ec2, [], [MANAGED])
    const newest = newestOfEachWorkload(images)
    const kept: ImageFacts[] = []
    for (const image of images) {
      if (
        inUse.has(image.imageId) ||
        newest.has(image.imageId) ||
        image.createdAt === null ||
        image.createdAt >= amiCutoff
      ) {
        kept.push(image)
        continue
      }
      try {
        await deregisterImage(ctx.ec2, image.imageId)
        report.amis.deleted_amis.push(image.imageId)
      } catch (err) {
        report.amis.failed.push({ id: image.imageId, error: messageOf(err) })
        kept.push(image)
        continue
      }
      for (const snapshotId of image.snapshotIds) {
        try {
          await deleteSnapshot(ctx.ec2, snapshotId)
          report.amis.deleted_snapshots.push(snapshotId)
        } catch (err) {
          report.amis.failed.push({ id: snapshotId, error: messageOf(err) })
        }
      }
    }

    const protectedSnapshots = new Set(
      kept.flatMap((i) => i.snapshotIds).concat(report.amis.deleted_snapshots),
    )
    const snapshots = await describeSnapshots(ctx.ec2, [MANAGED])
    const rollingKept = rollingSnapshotsKept(
      snapshots.filter((s) => isRollingSnapshot(s.tags)),
      now,
    )
    for (const snapshot of snapshots) {
      if (protectedSnapshots.has(snapshot.snapshotId) || rollingKept.has(snapshot.snapshotId)) continue
      if (snapshot.startedAt === null || snapshot.startedAt >= snapshotCutoff) continue
      try {
        await deleteSnapshot(ctx.ec2, snapshot.snapshotId)
        report.snapshots.deleted.push(snapshot.snapshotId)
      } catch (err) {
        report.snapshots.failed.push({ id: snapshot.snapshotId, error: messageOf(err) })
      }
    }
  } catch (err) {
    report.amis.error = messageOf(err)
    report.snapshots.error = messageOf(err)
  }
  ctx.link.report(`cleanup:${now}`, 'POST', '/cleanup-report', report)
  const summary = `${report.amis.deleted_amis.length} AMIs, ${report.snapshots.deleted.length + report.amis.deleted_snapshots.length} snapshots deleted, ${report.amis.failed.length + report.snapshots.failed.length} failed`
  ctx.log.info('cleanup done', { summary, error: report.amis.error })
  return report.amis.error
    ? { ok: false, code: 'CleanupFailed', message: report.amis.error, retryable: true }
    : ok(summary)
}

/** The newest available AMI of each workload (`LogicalAgentId` tag): what `bestImage` launches from. */
function newestOfEachWorkload(images: ImageFacts[]): Set<string> {
  const newest = new Map<string, ImageFacts>()
  for (const image of images) {
    const workload = image.tags.LogicalAgentId
    if (!workload || image.createdAt === null || image.state !== 'available') continue
    const held = newest.get(workload)
    if (!held || image.createdAt > (held.createdAt ?? 0)) newest.set(workload, image)
  }
  return new Set([...newest.values()].map((i) => i.imageId))
}
