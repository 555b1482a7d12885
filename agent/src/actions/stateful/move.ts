/**
 * A stateful switch in the same AZ (issue 15, items 1 and 2): after the drain, the data volumes leave the
 * old instance and attach to the new one at the same device names, and the managed interface (the stable
 * private address, its security groups and source/dest check are the interface's own) moves to the new
 * one's device index 1. Every move is driven by what EC2 shows, so a resumed switch or a rollback runs
 * the same code: a volume is never left attached nowhere; on a failure everything goes back to the old
 * instance (a new instance that died mid-way has released what it held, which then goes back too).
 */
import type { StatefulSwitchReport } from '../../../../src/protocol'
import type { ActionContext } from '../context'
import { timed, type Step } from '../drain'
import { LaunchError, pollUntil } from '../launch'
import { INTERFACE_DEVICE_INDEX, type Inventory } from './inventory'
import {
  attachInterface,
  attachVolume,
  describeInterfaces,
  describeVolumes,
  detachInterface,
  detachVolume,
  type VolumeFacts,
} from './operations'

/** What a stateful switch moves, persisted before the first detach (a restart resumes the same plan). */
export interface MovePlan {
  volumes: Array<{ volumeId: string; device: string }>
  iface: { eniId: string; privateIp: string } | null
}

/** What the move (or the copy across AZs, cross-az.ts) did, for the switch-report's `stateful` object. */
export type Moved = { steps: Step[] } & Pick<StatefulSwitchReport, 'volumes' | 'address'>

/** EBS takes seconds to (de)attach; past this the move fails (and rolls back). */
export const ATTACH_TIMEOUT_MS = 5 * 60_000
export const POLL_MAX_MS = 2_000

export function planOf(inventory: Inventory): MovePlan {
  return {
    volumes: inventory.volumes.map((v) => ({ volumeId: v.volumeId, device: v.attachment!.device })),
    iface: inventory.iface ? { eniId: inventory.iface.eniId, privateIp: inventory.iface.privateIp } : null,
  }
}

export function isEmpty(plan: MovePlan): boolean {
  return plan.volumes.length === 0 && !plan.iface
}

/**
 * Moves the plan's volumes and interface from `from` to `to`; answers the timed steps. Throws (after
 * putting everything back on `from`) when a step fails.
 */
export async function moveStatefulParts(
  ctx: ActionContext,
  plan: MovePlan,
  from: string,
  to: string,
): Promise<Moved> {
  const steps: Step[] = []
  const run = stepRunner(ctx, steps, 'putting volumes and interface back', () => putBack(ctx, plan, from))
  if (plan.volumes.length > 0) {
    await run('detach_volumes', async () => {
      for (const v of plan.volumes) await detachFrom(ctx, v.volumeId, to)
      for (const v of plan.volumes) await detachFrom(ctx, v.volumeId, from)
      return `${plan.volumes.length} volume(s) detached from ${from}`
    })
    await run('attach_volumes', async () => {
      for (const v of plan.volumes) await ensureAttached(ctx, v.volumeId, to, v.device)
      return `${plan.volumes.map((v) => `${v.volumeId} at ${v.device}`).join(', ')} attached to ${to}`
    })
  }
  if (plan.iface) {
    const { eniId } = plan.iface
    await run('move_interface', async () => {
      await ensureInterfaceOn(ctx, eniId, to)
      return `${eniId} (${plan.iface!.privateIp}) moved to ${to}`
    })
  }
  return {
    steps,
    volumes: plan.volumes.map((v) => ({
      device: v.device,
      old_volume_id: v.volumeId,
      new_volume_id: v.volumeId,
      how: 'moved',
    })),
    address: plan.iface
      ? {
          eni_id: plan.iface.eniId,
          old_private_ip: plan.iface.privateIp,
          new_private_ip: plan.iface.privateIp,
          changed: false,
        }
      : null,
  }
}

/**
 * A runner of named steps, each timed into `steps`; a step that throws has `undo` run (and logged as
 * `undoing`) before its error goes on.
 */
export function stepRunner(ctx: ActionContext, steps: Step[], undoing: string, undo: () => Promise<void>) {
  return async (name: Step['name'], work: () => Promise<string>): Promise<void> => {
    let failure = null as unknown
    const step = await timed(ctx, name, async () => {
      try {
        return { ok: true, detail: await work() }
      } catch (err) {
        failure = err
        throw err
      }
    })
    steps.push(step)
    if (failure) {
      ctx.log.error(`stateful switch: ${undoing}`, { step: name, detail: step.detail })
      await undo()
      throw failure
    }
  }
}

/** Everything of the plan back on `home` (the old instance); logs what it could not put back. */
export async function putBack(ctx: ActionContext, plan: MovePlan, home: string): Promise<void> {
  for (const v of plan.volumes) {
    try {
      await ensureAttached(ctx, v.volumeId, home, v.device)
    } catch (err) {
      ctx.log.error('stateful switch: a volume could not go back', {
        volume_id: v.volumeId,
        error: String(err),
      })
    }
  }
  if (!plan.iface) return
  try {
    await ensureInterfaceOn(ctx, plan.iface.eniId, home)
  } catch (err) {
    ctx.log.error('stateful switch: the interface could not go back', {
      eni_id: plan.iface.eniId,
      error: String(err),
    })
  }
}

export async function volumeNow(ctx: ActionContext, volumeId: string): Promise<VolumeFacts> {
  const [volume] = await describeVolumes(ctx.ec2, [volumeId])
  if (!volume) throw new LaunchError('VolumeLost', `${volumeId} is gone`)
  return volume
}

/** Detaches the volume when it is on `instanceId`, and waits until it is available. */
export async function detachFrom(ctx: ActionContext, volumeId: string, instanceId: string): Promise<void> {
  const volume = await volumeNow(ctx, volumeId)
  if (volume.attachment?.instanceId !== instanceId) return
  if (volume.attachment.state !== 'detaching') await detachVolume(ctx.ec2, volumeId, instanceId)
  await pollUntil(
    ctx,
    `${volumeId} available`,
    ATTACH_TIMEOUT_MS,
    async () => {
      const now = await volumeNow(ctx, volumeId)
      return now.attachment?.instanceId === instanceId ? null : true
    },
    POLL_MAX_MS,
  )
}

/** Brings the volume to `instanceId` at `device` (detaching it from elsewhere first) and waits until attached. */
export async function ensureAttached(
  ctx: ActionContext,
  volumeId: string,
  instanceId: string,
  device: string,
) {
  const volume = await volumeNow(ctx, volumeId)
  const elsewhere = volume.attachment && volume.attachment.instanceId !== instanceId
  if (elsewhere) await detachFrom(ctx, volumeId, volume.attachment!.instanceId)
  if (!volume.attachment || elsewhere) await attachVolume(ctx.ec2, volumeId, instanceId, device)
  await pollUntil(
    ctx,
    `${volumeId} attached to ${instanceId}`,
    ATTACH_TIMEOUT_MS,
    async () => {
      const a = (await volumeNow(ctx, volumeId)).attachment
      if (a?.instanceId !== instanceId)
        throw new LaunchError('AttachLost', `${volumeId} is no longer attaching to ${instanceId}`)
      return a.state === 'attached' ? true : null
    },
    POLL_MAX_MS,
  )
}

/** Brings the managed interface to `instanceId` at device index 1 (detaching it from elsewhere first). */
export async function ensureInterfaceOn(
  ctx: ActionContext,
  eniId: string,
  instanceId: string,
): Promise<void> {
  const eni = await interfaceNow(ctx, eniId)
  if (eni.attachment?.instanceId === instanceId) return
  await releaseInterface(ctx, eniId)
  await attachInterface(ctx.ec2, eniId, instanceId, INTERFACE_DEVICE_INDEX)
}

async function interfaceNow(ctx: ActionContext, eniId: string) {
  const [eni] = await describeInterfaces(ctx.ec2, [{ name: 'network-interface-id', values: [eniId] }])
  if (!eni) throw new LaunchError('InterfaceLost', `${eniId} is gone`)
  return eni
}

/** Detaches the interface from whatever holds it, and waits until it is available. */
export async function releaseInterface(ctx: ActionContext, eniId: string): Promise<void> {
  const eni = await interfaceNow(ctx, eniId)
  if (!eni.attachment) return
  await detachInterface(ctx.ec2, eni.attachment.attachmentId)
  await pollUntil(
    ctx,
    `${eniId} available`,
    ATTACH_TIMEOUT_MS,
    async () => ((await interfaceNow(ctx, eniId)).attachment ? null : true),
    POLL_MAX_MS,
  )
}
