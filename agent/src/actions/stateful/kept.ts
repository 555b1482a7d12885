/**
 * Volumes and interfaces kept by policy (tagged SpotGuardKeep=policy: no orphans) until what left them
 * behind is confirmed, then deleted: the old parts of a switch across AZs (cross-az.ts deleteKeptParts)
 * and what a restore set aside (restore-kept.ts). One deletion for both.
 */
import type { Filter } from '../../ec2-operations'
import type { ActionContext } from '../context'
import { KEEP_TAG, KEPT_BY_POLICY } from './inventory'
import { detachFrom, releaseInterface } from './move'
import { deleteInterface, deleteVolume, describeInterfaces, describeVolumes } from './operations'

/** Which kept parts to delete, as EC2 filters (null: none of that kind). */
export interface KeptParts {
  volumes: Filter[] | null
  interfaces: Filter[] | null
}

/**
 * Deletes the volumes and interfaces `kept` finds that still carry the keep tag (stateful/inventory.ts).
 * One attached to an instance is detached first (`'detach'`: the switch's own old instance), or left as
 * it is (`'leave'`: another instance's, never forced off it) and answered in `attached`, for a later try.
 * A failed delete is logged and left (the soak and cleanup see what stays by its tag).
 */
export async function deleteKept(
  ctx: ActionContext,
  kept: KeptParts,
  attached: 'detach' | 'leave',
): Promise<{ deleted: string[]; attached: string[] }> {
  const keptTag = { name: `tag:${KEEP_TAG}`, values: [KEPT_BY_POLICY] }
  const volumes = kept.volumes ? await describeVolumes(ctx.ec2, [], [...kept.volumes, keptTag]) : []
  const ifaces = kept.interfaces ? await describeInterfaces(ctx.ec2, [...kept.interfaces, keptTag]) : []
  const parts: Part[] = [
    ...volumes.map((v) => ({ id: v.volumeId, kind: 'volume' as const, on: v.attachment?.instanceId })),
    ...ifaces.map((i) => ({ id: i.eniId, kind: 'interface' as const, on: i.attachment?.instanceId })),
  ]
  const held = attached === 'leave' ? parts.filter((p) => p.on).map((p) => p.id) : []
  const deleted = await deleteParts(
    ctx,
    parts.filter((p) => !held.includes(p.id)),
  )
  if (deleted.length > 0) ctx.log.info('stateful: kept volumes and interfaces deleted', { ids: deleted })
  if (held.length > 0) ctx.log.info('stateful: kept parts still attached, not deleted yet', { ids: held })
  return { deleted, attached: held }
}

/** A volume or interface to delete, and the instance it is attached to. */
export type Part = { id: string; kind: 'volume' | 'interface'; on: string | undefined }

/** Deletes each part (detached from its instance first); answers the ids deleted, logs the failures. */
export async function deleteParts(ctx: ActionContext, parts: Part[]): Promise<string[]> {
  const deleted: string[] = []
  for (const part of parts) {
    try {
      switch (part.kind) {
        case 'volume':
          if (part.on) await detachFrom(ctx, part.id, part.on)
          await deleteVolume(ctx.ec2, part.id)
          break
        case 'interface':
          await releaseInterface(ctx, part.id)
          await deleteInterface(ctx.ec2, part.id)
          break
        default:
          part.kind satisfies never
      }
      deleted.push(part.id)
    } catch (err) {
      ctx.log.error('stateful: could not delete', { id: part.id, error: String(err) })
    }
  }
  return deleted
}
