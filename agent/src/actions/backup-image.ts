/**
 * The periodic backup AMI (product.md, "Interruption"): every `backup_image_hours` of the control
 * plane's config (0, or absent from an older control plane: none), an AMI of this instance, made with
 * NoReboot (the workload keeps running) and tagged as the workload's SpotGuard image like a switch's, so
 * that an emergency launch (launch.ts `bestImage`) starts from files at most a period old. A period runs
 * from the newest SpotGuard AMI of the workload (a switch's counts as fresh), else from the agent's
 * start. Cleanup (cleanup.ts) never deletes the newest AMI of a workload.
 */
import { iso } from '../clock'
import { createImage, describeImages } from '../ec2-operations'
import { amiName, BACKUP_TAG, type ActionContext } from './context'
import { waitImageAvailable } from './launch'

/** How often the agent looks whether a backup is due, seconds (one EC2 read at the first look only). */
export const BACKUP_CHECK_SECONDS = 300
const HOUR_MS = 3600_000
/** After EC2 refused a backup (a permission, a limit), the next try, ms: not at every look. */
export const BACKUP_RETRY_MS = HOUR_MS

export interface BackupImages {
  /** Makes the backup AMI when one is due and reports it once available: its id; null when none was due. */
  runIfDue(): Promise<string | null>
}

export function backupImages(ctx: ActionContext): BackupImages {
  const startedAt = ctx.clock.now()
  // Epoch ms the current period began; read from EC2 at the first look, then kept here.
  let periodFrom: number | null = null
  return {
    async runIfDue() {
      const config = ctx.agentConfig()
      const hours = config?.backup_image_hours ?? 0
      if (hours === 0 || config?.enabled === false) return null
      periodFrom ??= (await newestImageAt(ctx)) ?? startedAt
      const now = ctx.clock.now()
      if (now < periodFrom + hours * HOUR_MS) return null
      const { self, log } = ctx
      // The next period runs from this request, whether or not the image becomes available; a refused
      // request is tried again after BACKUP_RETRY_MS.
      periodFrom = now - hours * HOUR_MS + BACKUP_RETRY_MS
      const imageId = await createImage(ctx.ec2, self.instanceId, amiName(self.instanceId, now), true, {
        ManagedBy: 'SpotOptimizer',
        LogicalAgentId: ctx.logicalAgentId,
        SourceInstance: self.instanceId,
        [BACKUP_TAG]: 'periodic',
      })
      periodFrom = now
      log.info('backup image requested', { image_id: imageId, every_hours: hours })
      await waitImageAvailable(ctx, imageId)
      const [image] = await describeImages(ctx.ec2, [imageId])
      ctx.link.report(`backup-image:${imageId}`, 'POST', '/backup-image', {
        image_id: imageId,
        created_at: iso(image?.createdAt ?? now),
      })
      log.info('backup image available', { image_id: imageId })
      return imageId
    },
  }
}

/** Epoch ms of the newest SpotGuard AMI of this workload that is or will be available; null: none. */
async function newestImageAt(ctx: ActionContext): Promise<number | null> {
  const images = await describeImages(
    ctx.ec2,
    [],
    [
      { name: 'tag:ManagedBy', values: ['SpotOptimizer'] },
      { name: 'tag:LogicalAgentId', values: [ctx.logicalAgentId] },
      { name: 'state', values: ['available', 'pending'] },
    ],
  )
  const times = images.flatMap((i) => (i.state === 'failed' || i.createdAt === null ? [] : [i.createdAt]))
  return times.length ? Math.max(...times) : null
}
