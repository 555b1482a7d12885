/**
 * The workload's stateful parts (issue 15, items 1 and 2): its data volumes (every EBS volume attached to
 * the instance but the root one) and its SpotGuard-managed network interface (the stable private address,
 * tagged SpotGuardRole=workload-interface and the agent's id). At start the agent tags the volumes, creates
 * the interface once in the instance's subnet (its security groups) and attaches it at device index 1,
 * then reports both (POST volumes); a switch reads the same inventory to know what to move.
 */
import { createTags, describeInstance, type InstanceFacts, type Tags } from '../../ec2-operations'
import type { ActionContext } from '../context'
import {
  attachInterface,
  createInterface,
  describeInterfaces,
  dataVolumesOf,
  type InterfaceFacts,
  type VolumeFacts,
} from './operations'
import { DEVICE_TAG } from './snapshots-retention'

/** Where the managed interface sits on an instance (0 is the instance's own). */
export const INTERFACE_DEVICE_INDEX = 1

export interface Inventory {
  /** Data volumes attached to the instance, by device. */
  volumes: VolumeFacts[]
  /** The managed interface (on this instance or not), or null. */
  iface: InterfaceFacts | null
}

/** The tags of a stateful resource of this agent (contract of issue 15). */
export function statefulTags(agentId: string, role: 'data-volume' | 'workload-interface'): Tags {
  return { SpotGuardManaged: 'true', SpotGuardAgentId: agentId, SpotGuardRole: role }
}

/**
 * On what a switch across AZs (cross-az.ts) or a restore (restore.ts) left behind, kept until confirmed,
 * then deleted: the tag that keeps a volume or interface out of the orphan rules.
 */
export const KEEP_TAG = 'SpotGuardKeep'
export const KEPT_BY_POLICY = 'policy'

/** The agent's id as the control plane knows it (stable across switches); the logical id before registration. */
export function agentIdOf(ctx: ActionContext): string {
  return ctx.link.agentId ?? ctx.logicalAgentId
}

/** What `instance` holds now: its data volumes and the agent's managed interface. Reads only. */
export async function readInventory(ctx: ActionContext, instance: InstanceFacts): Promise<Inventory> {
  const volumes = await dataVolumesOf(ctx.ec2, instance)
  const ifaces = await describeInterfaces(ctx.ec2, [
    { name: 'tag:SpotGuardRole', values: ['workload-interface'] },
    { name: 'tag:SpotGuardAgentId', values: [agentIdOf(ctx)] },
  ])
  // After a switch across AZs the old interface lives on (kept by policy) until deleted: the one on
  // this instance is the workload's, else one not kept, in this instance's AZ first (only it attaches).
  const notKept = ifaces.filter((i) => i.tags[KEEP_TAG] !== KEPT_BY_POLICY)
  const iface =
    ifaces.find((i) => i.attachment?.instanceId === instance.instanceId) ??
    notKept.find((i) => i.az === instance.az) ??
    notKept[0]
  return { volumes, iface: iface ?? null }
}

/**
 * At start (stateful mode): tags untagged data volumes, creates the managed interface when the agent has
 * none and puts it on this instance when it is on none, then reports the inventory. Answers it.
 */
export async function establishInventory(ctx: ActionContext): Promise<Inventory> {
  const self = await describeInstance(ctx.ec2, ctx.self.instanceId)
  if (!self) throw new Error(`EC2 does not know ${ctx.self.instanceId}`)
  const found = await readInventory(ctx, self)
  const untagged = found.volumes.filter((v) => v.tags.SpotGuardRole !== 'data-volume').map((v) => v.volumeId)
  if (untagged.length > 0) await createTags(ctx.ec2, untagged, statefulTags(agentIdOf(ctx), 'data-volume'))
  // Each at its device too: one EC2 frees at an interruption (not released in time) still says where it goes.
  for (const v of found.volumes.filter((v) => v.tags[DEVICE_TAG] !== v.attachment!.device))
    await createTags(ctx.ec2, [v.volumeId], { [DEVICE_TAG]: v.attachment!.device })
  let iface = found.iface
  if (!iface) {
    if (!self.subnetId) throw new Error(`${self.instanceId} is in no subnet: no managed interface`)
    iface = await createInterface(
      ctx.ec2,
      self.subnetId,
      self.securityGroupIds,
      `SpotGuard workload address of ${ctx.logicalAgentId}`,
      statefulTags(agentIdOf(ctx), 'workload-interface'),
    )
    ctx.log.info('stateful: managed interface created', { eni_id: iface.eniId, private_ip: iface.privateIp })
  }
  if (!iface.attachment && iface.az === self.az) {
    const attachmentId = await attachInterface(ctx.ec2, iface.eniId, self.instanceId, INTERFACE_DEVICE_INDEX)
    iface = {
      ...iface,
      attachment: { attachmentId, instanceId: self.instanceId, deviceIndex: INTERFACE_DEVICE_INDEX },
    }
  }
  const inventory = { volumes: found.volumes, iface }
  reportInventory(ctx, inventory)
  return inventory
}

/** POST volumes: the data volumes and the managed interface, replacing the last report. */
export function reportInventory(ctx: ActionContext, inventory: Inventory): void {
  ctx.link.report(`volumes:${ctx.self.instanceId}:${ctx.clock.now()}`, 'POST', '/volumes', {
    volumes: inventory.volumes.map((v) => ({
      volume_id: v.volumeId,
      device: v.attachment!.device,
      size_gib: v.size,
      az: v.az,
      delete_on_termination: v.attachment!.deleteOnTermination,
    })),
    interface: inventory.iface
      ? {
          eni_id: inventory.iface.eniId,
          private_ip: inventory.iface.privateIp,
          subnet_id: inventory.iface.subnetId,
        }
      : null,
  })
}

/** After a stateful switch: reports what `instanceId` (the new instance) holds now; a failure is only logged. */
export async function reportInventoryOf(ctx: ActionContext, instanceId: string): Promise<void> {
  try {
    const instance = await describeInstance(ctx.ec2, instanceId)
    if (instance) reportInventory(ctx, await readInventory(ctx, instance))
  } catch (err) {
    ctx.log.warn('stateful: inventory of the new instance not reported', {
      instance_id: instanceId,
      error: String(err),
    })
  }
}
