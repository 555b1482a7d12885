/**
 * The replacement's side of an interruption of a stateful workload (issue 15, item 3). An emergency
 * replacement knows what it replaces from the tags its launch carries (emergency-tags.ts: the
 * interrupted instance, its AZ, the notice's time), and at its agent's start, before the inventory, it
 * takes the workload's data back, device by device:
 * - `reattached`: the live volume (DeleteOnTermination=false survives the interruption) in this AZ, at
 *   the same device, once the interrupted instance let go of it (restore-release.ts) or EC2 freed it
 *   at the termination: nothing lost;
 * - `restored`: in another AZ, or with the volume gone, a new volume from the newest completed rolling
 *   snapshot of that device (snapshots.ts): at most the time from that snapshot to the termination is
 *   lost. A live volume left in the other AZ holds the newest data: it is kept, tagged SpotGuardKeep=policy
 *   and no longer the workload's.
 * The managed interface follows in the same AZ (same private address); in another AZ a new one is made
 * in this instance's subnet (the address changes; the old one is kept by policy, no longer the
 * workload's). The outcome goes to the control plane as the interruption switch's `stateful` object;
 * once it landed, what was kept is deleted (restore-kept.ts).
 */
import { iso } from '../../clock'
import {
  createTags,
  describeInstance,
  describeSnapshots,
  type InstanceFacts,
  type Tags,
} from '../../ec2-operations'
import { messageOf, type ActionContext } from '../context'
import { timed, type Step } from '../drain'
import {
  emergencyReportKey,
  emergencySwitchReport,
  factsOfTags,
  type EmergencyFacts,
} from '../emergency-tags'
import { LaunchError, pollUntil } from '../launch'
import {
  INTERFACE_DEVICE_INDEX,
  KEEP_TAG,
  KEPT_BY_POLICY,
  reportInventoryOf,
  statefulTags,
} from './inventory'
import {
  attachInterface,
  attachVolume,
  createInterface,
  createVolumeFrom,
  describeInterfaces,
  describeVolumes,
  describeVolumesOf,
  detachVolume,
  type InterfaceFacts,
  type VolumeFacts,
} from './operations'
import { AGENT_ID_TAG, DEVICE_TAG, ROLE_TAG, ROLLING_SNAPSHOT_ROLE } from './snapshots-retention'

/** EC2 frees an interrupted instance's volumes at its end: past the notice plus this, restore from a snapshot. */
export const RELEASE_WAIT_MS = 10 * 60_000
/** EBS takes seconds to create or attach a volume. */
const READY_TIMEOUT_MS = 5 * 60_000
const POLL_MAX_MS = 2_000
/** The role of a volume or interface the workload left behind (kept until confirmed, no longer its). */
export const REPLACED_ROLE = { volume: 'replaced-data-volume', iface: 'replaced-workload-interface' } as const

/** The outbox key of the restore's report: once delivered, the restore is confirmed (restore-kept.ts). */
export const restoreReportKey = (facts: EmergencyFacts) => `${emergencyReportKey(facts.noticeId)}:stateful`

/** Set aside by this agent: kept by policy, no longer the workload's, deleted once the restore is confirmed. */
const setAside = (agentId: string, role: string): Tags => ({
  SpotGuardManaged: 'true',
  [AGENT_ID_TAG]: agentId,
  [ROLE_TAG]: role,
  [KEEP_TAG]: KEPT_BY_POLICY,
})

export type VolumeRestore = {
  device: string
  old_volume_id: string
  new_volume_id: string
  how: 'reattached' | 'restored'
}

/** What the replacement took back: the switch-report's `stateful` object. */
export interface Restored {
  steps: Step[]
  downtime_ms: number
  /** 0 when every volume was reattached; null when a device could not be restored at all. */
  data_loss_bound_seconds: number | null
  address: { eni_id: string; old_private_ip: string; new_private_ip: string; changed: boolean } | null
  volumes: VolumeRestore[]
}

/** One device of the workload: its live volume (any AZ) and the newest completed snapshot of it. */
interface DevicePlan {
  device: string
  live: VolumeFacts | null
  snapshot: { snapshotId: string; startedAt: number } | null
}

/**
 * On a stateful agent's start: when this instance is an emergency replacement (its tags say so), takes
 * the workload's data volumes and address back and reports it; null when it is none or has them already.
 */
export async function restoreIfReplacement(ctx: ActionContext): Promise<Restored | null> {
  const agentId = ctx.link.agentId
  const me = await describeInstance(ctx.ec2, ctx.self.instanceId)
  const tagged = me ? factsOfTags(me.tags) : null
  if (!me || !tagged || !agentId || tagged.facts.old.instanceId === me.instanceId) return null
  const { facts } = tagged
  const devices = await planDevices(ctx, agentId, facts.old.instanceId)
  if (devices.every((d) => d.live?.attachment?.instanceId === me.instanceId)) return null
  ctx.log.warn('stateful: this instance replaces an interrupted one; taking its data back', {
    replaced: facts.old.instanceId,
    devices: devices.map((d) => d.device),
  })
  const restored = await restoreParts(ctx, agentId, me, facts, devices)
  if (ctx.signal.aborted) {
    // This instance's own notice stopped it: its release frees what was taken for the next replacement.
    ctx.log.warn('stateful: restore stopped, this instance is being interrupted', {
      volumes: restored.volumes,
    })
    return null
  }
  ctx.link.report(restoreReportKey(facts), 'POST', '/switch-report', {
    ...emergencySwitchReport(
      facts,
      {
        instanceId: me.instanceId,
        instanceType: me.instanceType,
        region: ctx.self.region,
        az: me.az,
        imageId: me.imageId ?? ctx.self.amiId ?? '',
        mode: me.mode,
        launchedAt: me.launchTime,
      },
      null,
    ),
    stateful: restored,
  })
  await reportInventoryOf(ctx, me.instanceId)
  return restored
}

/** The workload's devices: its data volumes (by their tags) and the devices its rolling snapshots copy. */
async function planDevices(
  ctx: ActionContext,
  agentId: string,
  oldInstanceId: string,
): Promise<DevicePlan[]> {
  const volumes = await describeVolumes(
    ctx.ec2,
    [],
    [
      { name: `tag:${ROLE_TAG}`, values: ['data-volume'] },
      { name: `tag:${AGENT_ID_TAG}`, values: [agentId] },
    ],
  )
  const snapshots = await describeSnapshots(ctx.ec2, [
    { name: `tag:${ROLE_TAG}`, values: [ROLLING_SNAPSHOT_ROLE] },
    { name: `tag:${AGENT_ID_TAG}`, values: [agentId] },
  ])
  const plans = new Map<string, DevicePlan>()
  const planOf = (device: string) => {
    const plan = plans.get(device) ?? { device, live: null, snapshot: null }
    plans.set(device, plan)
    return plan
  }
  for (const v of volumes) {
    // Attached to a third instance, it is not the interrupted workload's to take.
    const device = v.attachment
      ? v.attachment.instanceId === oldInstanceId || v.attachment.instanceId === ctx.self.instanceId
        ? v.attachment.device
        : null
      : (v.tags[DEVICE_TAG] ?? null)
    if (device) planOf(device).live = v
  }
  for (const s of snapshots) {
    const device = s.tags[DEVICE_TAG]
    if (!device || s.state !== 'completed' || s.startedAt === null) continue
    const plan = planOf(device)
    if (!plan.snapshot || s.startedAt > plan.snapshot.startedAt)
      plan.snapshot = { snapshotId: s.snapshotId, startedAt: s.startedAt }
  }
  return [...plans.values()].sort((a, b) => a.device.localeCompare(b.device))
}

async function restoreParts(
  ctx: ActionContext,
  agentId: string,
  me: InstanceFacts,
  facts: EmergencyFacts,
  devices: DevicePlan[],
): Promise<Restored> {
  const endedAt = facts.oldEndsAt ?? facts.detectedAt
  const releasedBy = endedAt + RELEASE_WAIT_MS
  const volumes: VolumeRestore[] = []
  const losses: Array<number | null> = []
  const steps: Step[] = []
  steps.push(
    await timed(ctx, 'attach_volumes', async () => {
      const failed: string[] = []
      for (const d of devices) {
        try {
          const done = await restoreDevice(ctx, agentId, me, d, releasedBy)
          volumes.push(done)
          losses.push(
            done.how === 'reattached' ? 0 : Math.max(0, Math.ceil((endedAt - d.snapshot!.startedAt) / 1000)),
          )
        } catch (err) {
          losses.push(null)
          failed.push(`${d.device}: ${messageOf(err)}`)
        }
      }
      const done = volumes.map((v) => `${v.device} ${v.how} (${v.new_volume_id})`).join(', ')
      return failed.length === 0
        ? { ok: true, detail: `${done} on ${me.instanceId}` }
        : {
            ok: false,
            detail: `${done || 'nothing'} on ${me.instanceId}; not restored: ${failed.join('; ')}`,
          }
    }),
  )
  let address: Restored['address'] = null
  steps.push(
    await timed(ctx, 'move_interface', async () => {
      address = await restoreInterface(ctx, agentId, me, facts.old.instanceId, releasedBy)
      return {
        ok: true,
        detail: address
          ? `${address.eni_id} (${address.new_private_ip}) on ${me.instanceId}${address.changed ? `, was ${address.old_private_ip}` : ''}`
          : 'no managed interface',
      }
    }),
  )
  const last = steps.at(-1)!
  return {
    steps,
    downtime_ms: Math.max(0, Date.parse(last.started_at) + last.ms - facts.detectedAt),
    data_loss_bound_seconds: losses.some((l) => l === null) ? null : Math.max(0, ...(losses as number[])),
    address,
    volumes,
  }
}

/** One device back on this instance: its live volume when in this AZ and freed in time, else from its snapshot. */
async function restoreDevice(
  ctx: ActionContext,
  agentId: string,
  me: InstanceFacts,
  d: DevicePlan,
  releasedBy: number,
): Promise<VolumeRestore> {
  const live = d.live
  if (live?.az === me.az) {
    const freed = await waitFree(ctx, live.volumeId, me.instanceId, releasedBy)
    stopIfInterrupted(ctx)
    if (freed) {
      await attachAndWait(ctx, agentId, live.volumeId, me.instanceId, d.device)
      return {
        device: d.device,
        old_volume_id: live.volumeId,
        new_volume_id: live.volumeId,
        how: 'reattached',
      }
    }
  }
  stopIfInterrupted(ctx)
  if (!d.snapshot) throw new Error(`no completed rolling snapshot of ${d.device} to restore from`)
  if (live) await createTags(ctx.ec2, [live.volumeId], setAside(agentId, REPLACED_ROLE.volume))
  const created = await createVolumeFrom(ctx.ec2, d.snapshot.snapshotId, me.az, live ?? {}, {
    ...statefulTags(agentId, 'data-volume'),
    ManagedBy: 'SpotOptimizer',
    LogicalAgentId: ctx.logicalAgentId,
    [DEVICE_TAG]: d.device,
  })
  await pollUntil(
    ctx,
    `${created.volumeId} available`,
    READY_TIMEOUT_MS,
    async () =>
      (await describeVolumes(ctx.ec2, [created.volumeId]))[0]?.state === 'available' ? true : null,
    POLL_MAX_MS,
  )
  await attachAndWait(ctx, agentId, created.volumeId, me.instanceId, d.device)
  ctx.log.warn('stateful: data volume restored from the newest rolling snapshot', {
    device: d.device,
    snapshot_id: d.snapshot.snapshotId,
    snapshot_at: iso(d.snapshot.startedAt),
    volume_id: created.volumeId,
    kept: live?.volumeId ?? null,
  })
  return {
    device: d.device,
    old_volume_id: live?.volumeId ?? created.volumeId,
    new_volume_id: created.volumeId,
    how: 'restored',
  }
}

/**
 * Throws once the restore is stopped (this instance's notice, establish.ts, or the agent stopping):
 * nothing more is taken, and a wait cut short never reads as "not freed in time" (the snapshot fallback).
 */
function stopIfInterrupted(ctx: ActionContext): void {
  if (ctx.signal.aborted) throw new Error('restore stopped: this instance is being interrupted')
}

/** Waits until the volume is on no instance but `me` (EC2 frees it at the interrupted one's end); false past `until`. */
async function waitFree(ctx: ActionContext, volumeId: string, me: string, until: number): Promise<boolean> {
  return pollUntil(
    ctx,
    `${volumeId} freed by the interrupted instance`,
    Math.max(0, until - ctx.clock.now()),
    async () => {
      const [v] = await describeVolumes(ctx.ec2, [volumeId])
      if (!v) throw new LaunchError('VolumeLost', `${volumeId} is gone`)
      return !v.attachment || v.attachment.instanceId === me ? true : null
    },
    POLL_MAX_MS * 5,
  ).catch((err: unknown) => {
    if (err instanceof LaunchError) return false
    throw err
  })
}

/**
 * Attaches the volume at `device` of this instance and waits. A volume there already (a promoted
 * replica's copy from its image) is set aside first: detached, kept by policy, no longer the workload's.
 */
async function attachAndWait(
  ctx: ActionContext,
  agentId: string,
  volumeId: string,
  me: string,
  device: string,
): Promise<void> {
  const [v] = await describeVolumes(ctx.ec2, [volumeId])
  if (v?.attachment?.instanceId === me) return waitAttached(ctx, volumeId, me)
  const copy = (await describeVolumesOf(ctx.ec2, me)).find(
    (c) => c.attachment?.device === device && c.volumeId !== volumeId,
  )
  if (copy) {
    await createTags(ctx.ec2, [copy.volumeId], setAside(agentId, REPLACED_ROLE.volume))
    await detachVolume(ctx.ec2, copy.volumeId, me)
    await pollUntil(
      ctx,
      `${copy.volumeId} off ${device}`,
      READY_TIMEOUT_MS,
      async () => ((await describeVolumes(ctx.ec2, [copy.volumeId]))[0]?.attachment ? null : true),
      POLL_MAX_MS,
    )
    ctx.log.warn('stateful: the copy this instance came with set aside for the live data', {
      device,
      copy: copy.volumeId,
      live: volumeId,
    })
  }
  await attachVolume(ctx.ec2, volumeId, me, device)
  await waitAttached(ctx, volumeId, me)
}

async function waitAttached(ctx: ActionContext, volumeId: string, me: string): Promise<void> {
  await pollUntil(
    ctx,
    `${volumeId} attached to ${me}`,
    READY_TIMEOUT_MS,
    async () =>
      (await describeVolumes(ctx.ec2, [volumeId]))[0]?.attachment?.state === 'attached' ? true : null,
    POLL_MAX_MS,
  )
}

/** The managed interface on this instance: moved in the same AZ, a new one in this subnet otherwise. */
async function restoreInterface(
  ctx: ActionContext,
  agentId: string,
  me: InstanceFacts,
  oldInstanceId: string,
  releasedBy: number,
): Promise<Restored['address']> {
  const read = () =>
    describeInterfaces(ctx.ec2, [
      { name: `tag:${ROLE_TAG}`, values: ['workload-interface'] },
      { name: `tag:${AGENT_ID_TAG}`, values: [agentId] },
    ])
  const [old] = await read()
  if (!old) return null
  const unchanged = (eni: InterfaceFacts) => ({
    eni_id: eni.eniId,
    old_private_ip: eni.privateIp,
    new_private_ip: eni.privateIp,
    changed: false,
  })
  if (old.attachment?.instanceId === me.instanceId) return unchanged(old)
  if (old.az === me.az && (!old.attachment || old.attachment.instanceId === oldInstanceId)) {
    const free = await pollUntil(
      ctx,
      `${old.eniId} freed by the interrupted instance`,
      Math.max(0, releasedBy - ctx.clock.now()),
      async () => ((await read()).find((e) => e.eniId === old.eniId)?.attachment ? null : true),
      POLL_MAX_MS * 5,
    ).catch((err: unknown) => {
      if (err instanceof LaunchError) return false
      throw err
    })
    stopIfInterrupted(ctx)
    if (free) {
      await attachInterface(ctx.ec2, old.eniId, me.instanceId, INTERFACE_DEVICE_INDEX)
      return unchanged(old)
    }
  }
  stopIfInterrupted(ctx)
  if (!me.subnetId) throw new Error(`${me.instanceId} is in no subnet: no managed interface`)
  // The old one stays where it is, kept by policy and no longer found as the workload's.
  await createTags(ctx.ec2, [old.eniId], setAside(agentId, REPLACED_ROLE.iface))
  const fresh = await createInterface(
    ctx.ec2,
    me.subnetId,
    me.securityGroupIds,
    `SpotGuard workload address of ${ctx.logicalAgentId}`,
    statefulTags(agentId, 'workload-interface'),
  )
  await attachInterface(ctx.ec2, fresh.eniId, me.instanceId, INTERFACE_DEVICE_INDEX)
  return {
    eni_id: fresh.eniId,
    old_private_ip: old.privateIp,
    new_private_ip: fresh.privateIp,
    changed: true,
  }
}
