/**
 * Launching a copy of an instance elsewhere: same VPC (a subnet in the target AZ), security groups,
 * instance profile, key pair, user data and tags (minus aws:, plus SpotGuard's), with an idempotent
 * ClientToken; and waiting until the copy runs with its status checks passing.
 */
import { backoffMs } from '../clock'
import {
  describeImages,
  describeInstanceStatus,
  describeSubnets,
  describeUserData,
  runInstance,
  type InstanceFacts,
  type Tags,
} from '../ec2-operations'
import { REPLICA_ID_TAG } from '../identity'
import { BACKUP_TAG, type ActionContext } from './context'
import { EMERGENCY_TAG_PREFIX } from './emergency-tags'

export class LaunchError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'LaunchError'
  }
}

/**
 * The source's tags without reserved ones and without those describing the source's own launch: its
 * emergency (a report of another switch) and its `ReplicaId` (a promoted replica's; on a switch's new
 * instance it would pass for that replica at registration), plus SpotGuard's (which win).
 */
export function inheritedTags(source: Tags, own: Tags, mode: 'spot' | 'ondemand'): Tags {
  const tags: Tags = {}
  for (const [k, v] of Object.entries(source))
    if (!k.toLowerCase().startsWith('aws:') && !k.startsWith(EMERGENCY_TAG_PREFIX) && k !== REPLICA_ID_TAG)
      tags[k] = v
  Object.assign(tags, own, { ManagedBy: 'SpotOptimizer' })
  tags.Name ??= `SpotOptimizer-${mode}`
  return tags
}

export interface LaunchTarget {
  imageId: string
  instanceType: string
  az: string
  mode: 'spot' | 'ondemand'
  tags: Tags
  clientToken: string
}

/** Launches a copy of `source` at `target`; answers the new instance id (the same one on a retry). */
export async function launchLike(
  ctx: ActionContext,
  source: InstanceFacts,
  target: LaunchTarget,
): Promise<string> {
  let subnetId = source.subnetId
  if (target.az !== source.az) {
    if (!source.vpcId)
      throw new LaunchError(
        'NoVpc',
        `${source.instanceId} is in no VPC: cannot pick a subnet in ${target.az}`,
      )
    subnetId = (await describeSubnets(ctx.ec2, source.vpcId, target.az))[0] ?? null
    if (!subnetId)
      throw new LaunchError('NoSubnet', `VPC ${source.vpcId} has no available subnet in ${target.az}`)
  }
  const userData = await describeUserData(ctx.ec2, source.instanceId)
  return runInstance(ctx.ec2, {
    imageId: target.imageId,
    instanceType: target.instanceType,
    subnetId,
    securityGroupIds: source.securityGroupIds,
    instanceProfileArn: source.instanceProfileArn,
    keyName: source.keyName,
    userData,
    mode: target.mode,
    tags: inheritedTags(source.tags, target.tags, target.mode),
    clientToken: target.clientToken,
  })
}

/**
 * Polls (1 s, 2 s, 4 s... up to `maxIntervalMs`, 15 s by default) until `check` answers a value, or
 * throws after `timeoutMs`.
 */
export async function pollUntil<T>(
  ctx: ActionContext,
  what: string,
  timeoutMs: number,
  check: () => Promise<T | null>,
  maxIntervalMs = 15_000,
): Promise<T> {
  const deadline = ctx.clock.now() + timeoutMs
  for (let attempt = 0; ; attempt++) {
    const value = await check()
    if (value !== null) return value
    if (ctx.clock.now() >= deadline || ctx.signal.aborted)
      throw new LaunchError('Timeout', `gave up waiting for ${what}`)
    await ctx.clock.sleep(backoffMs(attempt, 1_000, maxIntervalMs), ctx.signal)
  }
}

/** The instance's state and status checks; throws when it is gone or going. */
async function liveStatus(ctx: ActionContext, instanceId: string) {
  const status = await describeInstanceStatus(ctx.ec2, instanceId)
  if (
    status &&
    (status.state === 'shutting-down' || status.state === 'terminated' || status.state === 'stopped')
  ) {
    throw new LaunchError('InstanceLost', `${instanceId} is ${status.state}`)
  }
  return status
}

/** Waits until the instance runs and both status checks pass. */
export async function waitRunningAndOk(
  ctx: ActionContext,
  instanceId: string,
  timeoutMs = 15 * 60_000,
): Promise<void> {
  await pollUntil(ctx, `${instanceId} running with status checks ok`, timeoutMs, async () => {
    const status = await liveStatus(ctx, instanceId)
    const passed = (s: string) => s === 'ok' || s === 'not-applicable'
    return status?.state === 'running' && passed(status.instanceStatus) && passed(status.systemStatus)
      ? true
      : null
  })
}

/**
 * Waits until the instance runs, status checks or not (they take minutes): what EC2 needs before it
 * associates an address with it (a pending instance is refused). Polls at least every `maxIntervalMs`.
 */
export async function waitRunning(
  ctx: ActionContext,
  instanceId: string,
  timeoutMs: number,
  maxIntervalMs: number,
): Promise<void> {
  await pollUntil(
    ctx,
    `${instanceId} running`,
    timeoutMs,
    async () => ((await liveStatus(ctx, instanceId))?.state === 'running' ? true : null),
    maxIntervalMs,
  )
}

/** Waits until an AMI is available. */
export async function waitImageAvailable(
  ctx: ActionContext,
  imageId: string,
  timeoutMs = 60 * 60_000,
): Promise<void> {
  await pollUntil(ctx, `${imageId} available`, timeoutMs, async () => {
    const [image] = await describeImages(ctx.ec2, [imageId])
    if (image?.state === 'failed' || image?.state === 'invalid')
      throw new LaunchError('ImageFailed', `${imageId} is ${image.state}`)
    return image?.state === 'available' ? true : null
  })
}

/**
 * The newest available SpotGuard AMI of this workload (a periodic backup's or a switch's: `backup` says
 * which), else the launch AMI; says which.
 */
export async function bestImage(ctx: ActionContext): Promise<{
  imageId: string
  source: 'spotguard_ami' | 'launch_ami'
  backup: boolean
  /** When EC2 made it, epoch ms (null: the launch AMI, or unknown). */
  madeAt: number | null
}> {
  const images = await describeImages(
    ctx.ec2,
    [],
    [
      { name: 'tag:ManagedBy', values: ['SpotOptimizer'] },
      { name: 'tag:LogicalAgentId', values: [ctx.logicalAgentId] },
      { name: 'state', values: ['available'] },
    ],
  )
  const newest = images
    .filter((i) => i.state === 'available')
    .sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0))[0]
  if (newest)
    return {
      imageId: newest.imageId,
      source: 'spotguard_ami',
      backup: BACKUP_TAG in newest.tags,
      madeAt: newest.createdAt,
    }
  if (!ctx.self.amiId) throw new LaunchError('NoImage', 'no SpotGuard AMI and no launch AMI known')
  return { imageId: ctx.self.amiId, source: 'launch_ami', backup: false, madeAt: null }
}
