/**
 * The interrupted side of a stateful workload without a replica to take its volumes over (issue 15, item
 * 3): once the drain stopped the workload, the instance lets go of its data volumes and its managed
 * interface before its notice runs out, so the replacement takes them at once instead of waiting for
 * EC2 to free them at the termination. Each volume is tagged with its device first: once detached, only
 * the tag says where the replacement must attach it (restore.ts). Nothing here is fatal: what is not
 * released in time EC2 frees at the termination (volumes with DeleteOnTermination=false survive it).
 * A standby replica promoted for the notice gets the tags an emergency launch carries, so its agent
 * takes the live volumes back too (a replica holds copies from its image, never the live volumes).
 */
import { createTags, describeInstance } from '../../ec2-operations'
import { LaunchError, pollUntil } from '../launch'
import { messageOf, type ActionContext } from '../context'
import { timed, type Step } from '../drain'
import { emergencyTags, type EmergencyFacts } from '../emergency-tags'
import { assertOwned } from '../ownership'
import { readInventory } from './inventory'
import { describeInterfaces, describeVolumes, detachInterface, detachVolume } from './operations'
import { DEVICE_TAG } from './snapshots-retention'

const POLL_MAX_MS = 2_000

/**
 * Detaches this instance's data volumes and its managed interface, waiting until EC2 shows them free but
 * never past `endBy` (epoch ms). Answers the timed step (`detach_volumes`), or none when there was
 * nothing to release.
 */
export async function releaseStatefulParts(ctx: ActionContext, endBy: number): Promise<Step[]> {
  const self = await describeInstance(ctx.ec2, ctx.self.instanceId).catch(() => null)
  if (!self) return []
  const inventory = await readInventory(ctx, self).catch((err: unknown) => {
    ctx.log.warn('interruption: stateful parts unread, EC2 frees them at the termination', {
      error: messageOf(err),
    })
    return null
  })
  const iface = inventory?.iface?.attachment?.instanceId === self.instanceId ? inventory.iface : null
  if (!inventory || (inventory.volumes.length === 0 && !iface)) return []
  const step = await timed(ctx, 'detach_volumes', async () => {
    for (const v of inventory.volumes)
      await createTags(ctx.ec2, [v.volumeId], { [DEVICE_TAG]: v.attachment!.device })
    for (const v of inventory.volumes) await detachVolume(ctx.ec2, v.volumeId, self.instanceId)
    if (iface) await detachInterface(ctx.ec2, iface.attachment!.attachmentId)
    const ids = inventory.volumes.map((v) => v.volumeId)
    const timeout = Math.max(0, endBy - ctx.clock.now())
    const free = await pollUntil(
      ctx,
      'the data volumes and the interface free',
      timeout,
      async () => {
        const held = (await describeVolumes(ctx.ec2, ids)).some((v) => v.attachment)
        const eni = iface
          ? (await describeInterfaces(ctx.ec2, [{ name: 'network-interface-id', values: [iface.eniId] }]))[0]
          : undefined
        return held || eni?.attachment ? null : true
      },
      POLL_MAX_MS,
    ).catch((err: unknown) => {
      if (err instanceof LaunchError) return false
      throw err
    })
    const what = [...ids, ...(iface ? [`${iface.eniId} (${iface.privateIp})`] : [])].join(', ')
    return free
      ? { ok: true, detail: `${what} released by ${self.instanceId} for its replacement` }
      : {
          ok: false,
          detail: `${what} still detaching at the notice's limit: EC2 frees them at the termination`,
        }
  })
  return [step]
}

/**
 * Tags the replica the control plane promoted for the notice as the notice's replacement (the tags of
 * emergency-tags.ts), once it is this workload's instance; a failure is only logged (its agent then
 * keeps the copies its image gave it).
 */
export async function markPromotedReplacement(
  ctx: ActionContext,
  instanceId: string,
  facts: EmergencyFacts,
): Promise<void> {
  try {
    await assertOwned(ctx, instanceId, { kind: 'workload' })
    // ParentInstance too: a standby's names the instance it was launched from, maybe an earlier one.
    await createTags(ctx.ec2, [instanceId], { ...emergencyTags(facts), ParentInstance: facts.old.instanceId })
  } catch (err) {
    ctx.log.warn('interruption: the promoted replica not told to take the data volumes back', {
      instance_id: instanceId,
      error: messageOf(err),
    })
  }
}
