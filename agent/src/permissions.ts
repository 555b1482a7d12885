/**
 * `--check`'s proof of every AWS permission the agent will need, by name: each Describe by a real call
 * on this instance, each change by the same call the agent would make with `DryRun=true` (EC2 answers
 * DryRunOperation when the policy allows it, UnauthorizedOperation when not), on the resources it
 * would act on: its own instance and image, the workload's Elastic IP, a SpotGuard AMI and snapshot.
 * A change with nothing to act on yet (no Elastic IP, no SpotGuard AMI) is skipped, not guessed.
 * The stateful mode's permissions (permissions-stateful.ts: volumes, the managed interface, rolling
 * snapshots) and ELBv2's (draining target groups; ELBv2 has no DryRun, so (de)registration is tried on a
 * real group with a target that cannot exist) are required when the mode is on, optional otherwise.
 * A permission the agent does without (ec2:GetSpotPlacementScores: capacity then falls back to the
 * interruption history) is `degraded` when refused: a warning, not a failure.
 */
import { clientToken } from './actions/context'
import type { Ec2, DryRunAnswer, Params } from './ec2-transport'
import { Ec2Error } from './ec2-transport'
import {
  createImageParams,
  createTagsParams,
  describeAddresses,
  describeImages,
  describeInstance,
  describeInstanceStatus,
  describeSnapshots,
  describeSpotPriceHistory,
  describeSubnets,
  describeUserData,
  runInstanceParams,
  type InstanceFacts,
} from './ec2-operations'
import { describeTargetGroups, describeTargetHealth, type Elbv2 } from './elbv2'
import type { Identity } from './imds'
import { proveStatefulPermissions } from './permissions-stateful'
import { placementScoreParams } from './placement-scores'

export type ProofOutcome = 'allowed' | 'missing' | 'failed' | 'skipped' | 'degraded'

export interface Proof {
  /** `ec2:RunInstances`, `pricing:GetProducts`... */
  permission: string
  outcome: ProofOutcome
  detail: string
  /** Needed only by the stateful mode while it is off: missing, it fails nothing. */
  optional?: true
}

export interface ProofDeps {
  ec2: Ec2
  elbv2: Elbv2
  self: Identity
  logicalAgentId: string
  /** GetProducts for the instance type: resolves when the Price List answered, throws when it did not. */
  priceList(): Promise<unknown>
  now: number
  /**
   * The stateful mode is on (or about to be: `--check --stateful`): its permissions are required, not
   * optional. They are too when its data volumes are on this instance.
   */
  stateful: boolean
}

const MANAGED = { name: 'tag:ManagedBy', values: ['SpotOptimizer'] }

/** Proves each permission in turn; never throws. */
export async function provePermissions(deps: ProofDeps): Promise<Proof[]> {
  const { ec2, self, logicalAgentId, now } = deps
  const proofs: Proof[] = []
  /** A read, by a real call; its answer (null when it failed). */
  const read = async <T>(permission: string, call: () => Promise<T>): Promise<T | null> => {
    try {
      const answer = await call()
      proofs.push({ permission, outcome: 'allowed', detail: 'answered' })
      return answer
    } catch (err) {
      proofs.push(refused(permission, err))
      return null
    }
  }
  /**
   * A change (or a call that counts against a quota), by a dry run of the call the agent would make; a
   * string for params: nothing to try it on. `fallback`: what the agent does without the permission.
   */
  const dryRun = async (
    action: string,
    params: Params | string,
    opts: { accept?: (e: Ec2Error) => string | null; fallback?: string } = {},
  ) => {
    const permission = `ec2:${action}`
    if (typeof params === 'string')
      return void proofs.push({ permission, outcome: 'skipped', detail: params })
    let proof: Proof
    try {
      proof = judge(permission, await ec2.dryRun(action, params), opts.accept)
    } catch (err) {
      proof = refused(permission, err)
    }
    const degraded = opts.fallback && (proof.outcome === 'missing' || proof.outcome === 'failed')
    proofs.push(
      degraded ? { permission, outcome: 'degraded', detail: `${proof.detail}: ${opts.fallback}` } : proof,
    )
  }

  const me = await read('ec2:DescribeInstances', () => describeInstance(ec2, self.instanceId))
  await read('ec2:DescribeInstanceStatus', () => describeInstanceStatus(ec2, self.instanceId))
  await read('ec2:DescribeInstanceAttribute', () => describeUserData(ec2, self.instanceId))
  const images = (await read('ec2:DescribeImages', () => describeImages(ec2, [], [MANAGED]))) ?? []
  const snapshots = (await read('ec2:DescribeSnapshots', () => describeSnapshots(ec2, [MANAGED]))) ?? []
  if (me?.vpcId) await read('ec2:DescribeSubnets', () => describeSubnets(ec2, me.vpcId!, self.az))
  const addresses = (await read('ec2:DescribeAddresses', () => describeAddresses(ec2, self.instanceId))) ?? []
  await read('ec2:DescribeSpotPriceHistory', () =>
    describeSpotPriceHistory(ec2, self.instanceType, 'Linux/UNIX', now - 3_600_000),
  )
  await read('ec2:DescribeAvailabilityZones', () => ec2.read('DescribeAvailabilityZones', {}))
  await read('pricing:GetProducts', deps.priceList)
  // A dry run: a real call would use one of the account's few placement configurations of the day.
  await dryRun('GetSpotPlacementScores', placementScoreParams(self.region, [self.instanceType]), {
    fallback: 'capacity scores fall back to the interruption history',
  })

  const ours = images.filter((i) => i.tags.LogicalAgentId === logicalAgentId && i.state === 'available')
  const newest = ours.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0))[0]
  const tags = { ManagedBy: 'SpotOptimizer', LogicalAgentId: logicalAgentId }
  await dryRun(
    'RunInstances',
    me
      ? launchParams(me, newest?.imageId ?? self.amiId, tags, now)
      : 'needs ec2:DescribeInstances of this instance',
  )
  await dryRun(
    'CreateImage',
    createImageParams(self.instanceId, `SpotOptimizer-check-${self.instanceId}-${now}`, true, {
      ...tags,
      SourceInstance: self.instanceId,
    }),
  )
  await dryRun('CreateTags', createTagsParams([self.instanceId], tags))
  await dryRun('TerminateInstances', { 'InstanceId.1': self.instanceId })
  const address = addresses.find((a) => a.allocationId)
  await dryRun(
    'AssociateAddress',
    address
      ? { AllocationId: address.allocationId!, InstanceId: self.instanceId, AllowReassociation: true }
      : 'no Elastic IP on this instance to try it on (needed only to move one)',
  )
  const image = newest ?? images[0]
  await dryRun(
    'DeregisterImage',
    image ? { ImageId: image.imageId } : 'no SpotGuard AMI yet to try it on (the first switch makes one)',
  )
  // A snapshot that backs an AMI is refused as in use, after the permission was granted.
  const inUse = new Set(images.flatMap((i) => i.snapshotIds))
  const snapshot = snapshots.find((s) => !inUse.has(s.snapshotId)) ?? snapshots[0]
  await dryRun(
    'DeleteSnapshot',
    snapshot
      ? { SnapshotId: snapshot.snapshotId }
      : 'no SpotGuard snapshot yet to try it on (the first switch makes one)',
    {
      accept: (e) =>
        e.code === 'InvalidSnapshot.InUse'
          ? `allowed (EC2 authorized it, then answered ${e.code}: it backs an AMI)`
          : null,
    },
  )
  const statefulFrom = proofs.length
  const runsHere = await proveStatefulPermissions(ec2, { read, dryRun }, self, me, tags)
  proofs.push(...(await proveElbv2(deps.elbv2)))
  if (!deps.stateful && !runsHere) for (const p of proofs.slice(statefulFrom)) p.optional = true
  return proofs
}

/** A target id no instance has: ELBv2 authorizes the call, then refuses the target; nothing changes. */
const NO_SUCH_TARGET = 'i-00000000000000000'

/** The draining permissions (stateful mode). */
async function proveElbv2(elbv2: Elbv2): Promise<Proof[]> {
  const proofs: Proof[] = []
  const prove = async (action: string, call: (() => Promise<unknown>) | string): Promise<void> => {
    const permission = `elasticloadbalancing:${action}`
    if (typeof call === 'string') return void proofs.push({ permission, outcome: 'skipped', detail: call })
    try {
      await call()
      proofs.push({ permission, outcome: 'allowed', detail: 'answered' })
    } catch (err) {
      const detail =
        err instanceof Ec2Error && err.code === 'InvalidTarget'
          ? 'allowed (ELBv2 authorized it, then refused a target that cannot exist)'
          : null
      proofs.push(detail ? { permission, outcome: 'allowed', detail } : refused(permission, err))
    }
  }
  let groups: Awaited<ReturnType<typeof describeTargetGroups>> = []
  await prove('DescribeTargetGroups', async () => (groups = await describeTargetGroups(elbv2)))
  const group = groups[0]
  const none = 'no target group to try it on (needed only to drain one)'
  await prove('DescribeTargetHealth', group ? () => describeTargetHealth(elbv2, group.arn) : none)
  for (const action of ['RegisterTargets', 'DeregisterTargets'])
    await prove(
      action,
      group
        ? () => elbv2.write(action, { TargetGroupArn: group.arn, 'Targets.member.1.Id': NO_SUCH_TARGET })
        : none,
    )
  return proofs
}

/** The launch the agent would make for a replica or a switch: this instance's network and profile. */
function launchParams(
  me: InstanceFacts,
  imageId: string | null,
  tags: Record<string, string>,
  now: number,
): Params | string {
  if (!imageId) return 'no image to launch from (no SpotGuard AMI, no launch AMI known)'
  return runInstanceParams({
    imageId,
    instanceType: me.instanceType,
    subnetId: me.subnetId,
    securityGroupIds: me.securityGroupIds,
    instanceProfileArn: me.instanceProfileArn,
    keyName: me.keyName,
    userData: null,
    mode: 'spot',
    tags: { ...tags, Name: 'SpotOptimizer-check' },
    clientToken: clientToken('check', `${me.instanceId}:${now}`),
  })
}

function judge(permission: string, answer: DryRunAnswer, accept?: (e: Ec2Error) => string | null): Proof {
  if (answer.allowed) return { permission, outcome: 'allowed', detail: 'allowed (DryRun)' }
  const accepted = accept?.(answer.error)
  return accepted ? { permission, outcome: 'allowed', detail: accepted } : refused(permission, answer.error)
}

function refused(permission: string, err: unknown): Proof {
  if (err instanceof Ec2Error && err.kind === 'unauthorized')
    return { permission, outcome: 'missing', detail: `missing (${err.code})` }
  return { permission, outcome: 'failed', detail: err instanceof Error ? err.message : String(err) }
}
