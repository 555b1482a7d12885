/**
 * Which Elastic IP follows the workload to a new instance, and moving it there. Associated by instance
 * id, an address lands on the new instance's primary private IP and pushes out any address already
 * there: one can follow, the one on this instance's primary IP first (a new instance has no secondary
 * IPs to carry the others). Moving each in turn would leave only the last and still look like success.
 * A move counts only once EC2 shows the address on the new instance. Nothing moves onto, or off, an
 * instance that is not tagged as this workload's (ownership.ts).
 */
import { Ec2Error } from '../ec2-transport'
import { associateAddress, describeAddresses } from '../ec2-operations'
import type { ActionContext } from './context'
import { LaunchError, pollUntil, waitRunning } from './launch'
import { assertOwned, type Claim } from './ownership'

export interface Address {
  allocationId: string
  publicIp: string | null
  /** The instance it is associated with now. */
  instanceId: string | null
}

export interface Following {
  address: Address | null
  /** Public IPs that stay on the old instance (logged by the caller's action). */
  left: (string | null)[]
}

/** EC2 is asked about a pending instance at most this often. */
const POLL_MS = 2_000

/** The Elastic IP that follows the workload from `instanceId` (this instance by default), and those left. */
export async function addressToFollow(
  ctx: Pick<ActionContext, 'ec2' | 'self'>,
  instanceId = ctx.self.instanceId,
): Promise<Following> {
  const { self } = ctx
  const addresses = withAllocation(await describeAddresses(ctx.ec2, instanceId))
  const [address, ...left] = addresses.sort(
    (a, b) => Number(b.privateIp === self.privateIp) - Number(a.privateIp === self.privateIp),
  )
  return { address: address ?? null, left: left.map((a) => a.publicIp) }
}

/** The Elastic IP with this public IP, or null (the address is not an Elastic IP, or is gone). */
export async function addressWithIp(
  ctx: Pick<ActionContext, 'ec2'>,
  publicIp: string,
): Promise<Address | null> {
  return withAllocation(await describeAddresses(ctx.ec2, { publicIp }))[0] ?? null
}

/**
 * Throws NotOwned unless `to` is tagged as `claim` and the instance holding `address` now (when
 * another than `to` or this host, which IMDS named, not the control plane) as this workload's: an
 * address is neither moved onto a stranger nor taken from one.
 */
export async function assertMayMove(
  ctx: Pick<ActionContext, 'ec2' | 'self' | 'logicalAgentId'>,
  address: Address,
  to: string,
  claim: Claim,
): Promise<void> {
  await assertOwned(ctx, to, claim)
  const holder = address.instanceId
  if (holder && holder !== to && holder !== ctx.self.instanceId)
    await assertOwned(ctx, holder, { kind: 'workload' })
}

/**
 * Moves `address` to `instanceId` (tagged as `claim`: assertMayMove) once that instance runs (EC2
 * refuses to associate with a pending instance, and may still see it pending for a moment after it
 * reports running), before `endsAt`, and confirms EC2 shows it there. Throws NotOwned, a LaunchError
 * (`Timeout`, `InstanceLost`, `NotMoved`) or the Ec2Error that refused it. Answers the time it moved.
 */
export async function moveAddress(
  ctx: ActionContext,
  address: Address,
  instanceId: string,
  endsAt: number,
  claim: Claim,
): Promise<number> {
  const { ec2, clock } = ctx
  if (address.instanceId !== instanceId) {
    await assertMayMove(ctx, address, instanceId, claim)
    await waitRunning(ctx, instanceId, Math.max(0, endsAt - clock.now()), POLL_MS)
    await pollUntil(
      ctx,
      `${instanceId} to accept ${address.publicIp}`,
      Math.max(0, endsAt - clock.now()),
      async () => {
        try {
          await associateAddress(ec2, address.allocationId, instanceId)
          return true
        } catch (err) {
          if (stillPending(err)) return null
          throw err
        }
      },
      POLL_MS,
    )
  }
  const at = clock.now()
  const now = address.publicIp ? await addressWithIp(ctx, address.publicIp) : null
  if (address.publicIp && now?.instanceId !== instanceId) {
    throw new LaunchError(
      'NotMoved',
      `EC2 shows ${address.publicIp} on ${now?.instanceId ?? 'no instance'}, not ${instanceId}`,
    )
  }
  return at
}

function withAllocation<T extends { allocationId: string | null; instanceId: string | null }>(
  addresses: T[],
) {
  return addresses.flatMap((a) => (a.allocationId ? [{ ...a, allocationId: a.allocationId }] : []))
}

/**
 * EC2 refusing the address because it still sees the instance pending, which can lag the state
 * DescribeInstanceStatus shows: "InvalidInstanceID: The pending instance 'i-...' is not in a valid
 * state" (by instance id), `IncorrectInstanceState` "The pending-instance-creation instance to
 * which 'eni-...' is attached..." (by interface).
 */
function stillPending(err: unknown): boolean {
  return (
    err instanceof Ec2Error &&
    (err.code === 'InvalidInstanceID' || err.code === 'IncorrectInstanceState') &&
    /\bpending/.test(err.message)
  )
}
