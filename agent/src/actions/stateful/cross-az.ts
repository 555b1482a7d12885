/**
 * A stateful switch across AZs (issue 15, items 1 and 2). EBS volumes and network interfaces are bound to
 * their AZ, so after the drain (the workload stopped: nothing written is lost) each data volume is
 * snapshotted, a volume made from that snapshot in the target AZ (same type, size, performance and tags)
 * attaches to the new instance at the same device, and a new managed interface in the new instance's
 * subnet (same security groups, source/dest check and tags) takes device index 1: the private address
 * changes. The old volumes and interface stay untouched on the old instance; once the switch is past
 * rollback they are tagged SpotGuardKeep=policy, and deleted when the control plane has the switch's
 * reports (deleteKeptParts, kept.ts). A failure deletes the copies and leaves the old instance as it was.
 * What a step makes is tagged with the command's id, so a resumed switch finds it instead of making it
 * twice. The snapshots are rolling snapshots of their devices: the retention keeps the newest.
 */
import {
  createTags,
  describeInstance,
  describeSnapshots,
  createSnapshot,
  type Tags,
} from '../../ec2-operations'
import type { ActionContext } from '../context'
import { LaunchError, pollUntil } from '../launch'
import { agentIdOf, KEEP_TAG, KEPT_BY_POLICY } from './inventory'
import { deleteKept, deleteParts } from './kept'
import {
  ATTACH_TIMEOUT_MS,
  ensureAttached,
  ensureInterfaceOn,
  POLL_MAX_MS,
  stepRunner,
  volumeNow,
  type MovePlan,
  type Moved,
} from './move'
import {
  createInterface,
  createVolumeFrom,
  describeInterfaces,
  describeVolumes,
  setSourceDestCheck,
  type InterfaceFacts,
} from './operations'
import { rollingSnapshotTags } from './snapshots'
import { DEVICE_TAG } from './snapshots-retention'

/** Names what a switch made (snapshots, volumes, interface), as it names its image. */
const COMMAND_TAG = 'SpotGuardCommandId'
/** EBS copies a volume's changed blocks; a first snapshot of a large volume takes long. */
const SNAPSHOT_TIMEOUT_MS = 60 * 60_000
const SNAPSHOT_POLL_MAX_MS = 15_000

/** Tags EC2 reserves (`aws:`) cannot be set; the keep tag is the old part's alone. */
function copiedTags(tags: Tags, commandId: string): Tags {
  const out: Tags = {}
  for (const [k, v] of Object.entries(tags)) if (!k.startsWith('aws:') && k !== KEEP_TAG) out[k] = v
  return { ...out, [COMMAND_TAG]: commandId }
}

const byCommand = (commandId: string) => [{ name: `tag:${COMMAND_TAG}`, values: [commandId] }]

/**
 * Copies the plan's volumes and interface from `from` onto the new instance `to` in its AZ; answers the
 * timed steps. Throws (after deleting the copies) when a step fails; the old parts are never touched.
 */
export async function copyStatefulParts(
  ctx: ActionContext,
  plan: MovePlan,
  commandId: string,
  from: string,
  to: string,
): Promise<Moved> {
  const target = await describeInstance(ctx.ec2, to)
  if (!target) throw new LaunchError('InstanceLost', `EC2 does not know ${to}`)
  const steps: Moved['steps'] = []
  const run = stepRunner(ctx, steps, 'deleting the copies; the old instance keeps its parts', () =>
    removeCopies(ctx, commandId),
  )
  const copies = new Map<string, string>()
  if (plan.volumes.length > 0) {
    const olds = await describeVolumes(
      ctx.ec2,
      plan.volumes.map((v) => v.volumeId),
    )
    const snapshots = new Map<string, string>()
    await run('snapshot_volumes', async () => {
      for (const v of plan.volumes) snapshots.set(v.device, await snapshotOnce(ctx, commandId, v))
      for (const id of snapshots.values()) await waitSnapshotCompleted(ctx, id)
      return `${[...snapshots.values()].join(', ')} of ${from}'s data volumes, the workload stopped`
    })
    await run('create_volumes', async () => {
      const made = await describeVolumes(ctx.ec2, [], byCommand(commandId))
      for (const v of plan.volumes) {
        const old = olds.find((o) => o.volumeId === v.volumeId)
        if (!old) throw new LaunchError('VolumeLost', `${v.volumeId} is gone`)
        const found = made.find((m) => m.tags[DEVICE_TAG] === v.device)
        const copy =
          found ??
          (await createVolumeFrom(ctx.ec2, snapshots.get(v.device)!, target.az, old, {
            ...copiedTags(old.tags, commandId),
            [DEVICE_TAG]: v.device,
          }))
        copies.set(v.device, copy.volumeId)
      }
      for (const id of copies.values()) await waitVolumeAvailable(ctx, id)
      return `${[...copies.values()].join(', ')} created in ${target.az}`
    })
    await run('attach_volumes', async () => {
      for (const v of plan.volumes) await ensureAttached(ctx, copies.get(v.device)!, to, v.device)
      return `${plan.volumes.map((v) => `${copies.get(v.device)} at ${v.device}`).join(', ')} attached to ${to}`
    })
  }
  let iface: InterfaceFacts | null = null
  if (plan.iface) {
    const { eniId } = plan.iface
    await run('new_interface', async () => {
      const [old] = await describeInterfaces(ctx.ec2, [{ name: 'network-interface-id', values: [eniId] }])
      if (!old) throw new LaunchError('InterfaceLost', `${eniId} is gone`)
      if (!target.subnetId) throw new LaunchError('NoSubnet', `${to} is in no subnet`)
      iface = await interfaceOnce(ctx, commandId, old, target.subnetId)
      if (iface.sourceDestCheck !== old.sourceDestCheck)
        await setSourceDestCheck(ctx.ec2, iface.eniId, old.sourceDestCheck)
      await ensureInterfaceOn(ctx, iface.eniId, to)
      return `${iface.eniId} (${iface.privateIp}) in ${iface.subnetId} attached to ${to}; ${eniId} (${old.privateIp}) stays`
    })
  }
  const made = iface as InterfaceFacts | null
  return {
    steps,
    volumes: plan.volumes.map((v) => ({
      device: v.device,
      old_volume_id: v.volumeId,
      new_volume_id: copies.get(v.device)!,
      how: 'from_snapshot',
    })),
    address:
      plan.iface && made
        ? {
            eni_id: made.eniId,
            old_private_ip: plan.iface.privateIp,
            new_private_ip: made.privateIp,
            changed: true,
          }
        : null,
  }
}

/** The snapshot this switch took of the volume, else a new one. */
async function snapshotOnce(
  ctx: ActionContext,
  commandId: string,
  v: MovePlan['volumes'][number],
): Promise<string> {
  const [taken] = await describeSnapshots(ctx.ec2, [
    ...byCommand(commandId),
    { name: 'volume-id', values: [v.volumeId] },
  ])
  if (taken && taken.state !== 'error') return taken.snapshotId
  return createSnapshot(ctx.ec2, v.volumeId, `SpotGuard switch ${commandId}: ${v.device} (${v.volumeId})`, {
    ...rollingSnapshotTags(ctx, agentIdOf(ctx), v.device),
    [COMMAND_TAG]: commandId,
  })
}

async function waitSnapshotCompleted(ctx: ActionContext, snapshotId: string): Promise<void> {
  await pollUntil(
    ctx,
    `${snapshotId} completed`,
    SNAPSHOT_TIMEOUT_MS,
    async () => {
      const [s] = await describeSnapshots(ctx.ec2, [{ name: 'snapshot-id', values: [snapshotId] }])
      if (!s || s.state === 'error') throw new LaunchError('SnapshotFailed', `${snapshotId} failed`)
      return s.state === 'completed' ? true : null
    },
    SNAPSHOT_POLL_MAX_MS,
  )
}

async function waitVolumeAvailable(ctx: ActionContext, volumeId: string): Promise<void> {
  await pollUntil(
    ctx,
    `${volumeId} available`,
    ATTACH_TIMEOUT_MS,
    async () => {
      const v = await volumeNow(ctx, volumeId)
      if (v.state === 'error') throw new LaunchError('VolumeFailed', `${volumeId} failed`)
      return v.state === 'creating' ? null : true
    },
    POLL_MAX_MS,
  )
}

/** The interface this switch made, else a new one in `subnetId` like `old`. */
async function interfaceOnce(
  ctx: ActionContext,
  commandId: string,
  old: InterfaceFacts,
  subnetId: string,
): Promise<InterfaceFacts> {
  const [made] = await describeInterfaces(ctx.ec2, byCommand(commandId))
  return (
    made ??
    (await createInterface(
      ctx.ec2,
      subnetId,
      old.groupIds,
      `SpotGuard workload address of ${ctx.logicalAgentId}`,
      copiedTags(old.tags, commandId),
    ))
  )
}

/** The rollback: the volumes and interface this switch made, detached and deleted (errors logged). */
export async function removeCopies(ctx: ActionContext, commandId: string): Promise<void> {
  const volumes = await describeVolumes(ctx.ec2, [], byCommand(commandId))
  const ifaces = await describeInterfaces(ctx.ec2, byCommand(commandId))
  await deleteParts(ctx, [
    ...volumes.map((v) => ({ id: v.volumeId, kind: 'volume' as const, on: v.attachment?.instanceId })),
    ...ifaces.map((i) => ({ id: i.eniId, kind: 'interface' as const, on: i.attachment?.instanceId })),
  ])
}

/** Past rollback: the old volumes and interface tagged as kept, so nothing takes them for orphans. */
export async function keepByPolicy(ctx: ActionContext, plan: MovePlan): Promise<void> {
  const ids = [...plan.volumes.map((v) => v.volumeId), ...(plan.iface ? [plan.iface.eniId] : [])]
  if (ids.length > 0) await createTags(ctx.ec2, ids, { [KEEP_TAG]: KEPT_BY_POLICY })
}

/**
 * The switch confirmed (its reports landed): the old volumes and interface it kept are detached from
 * the old instance (this host) and deleted (deleteKept).
 */
export async function deleteKeptParts(ctx: ActionContext, plan: MovePlan): Promise<void> {
  await deleteKept(
    ctx,
    {
      volumes: plan.volumes.length
        ? [{ name: 'volume-id', values: plan.volumes.map((v) => v.volumeId) }]
        : null,
      interfaces: plan.iface ? [{ name: 'network-interface-id', values: [plan.iface.eniId] }] : null,
    },
    'detach',
  )
}
