/**
 * Which Elastic IP follows the workload to a new instance. Associated by instance id, an address lands
 * on the new instance's primary private IP and pushes out any address already there: one can follow,
 * the one on this instance's primary IP first (a new instance has no secondary IPs to carry the
 * others). Moving each in turn would leave only the last and still look like success.
 */
import { describeAddresses } from '../ec2-api'
import type { ActionContext } from './context'

export interface Following {
  address: { allocationId: string; publicIp: string | null } | null
  /** Public IPs that stay on the old instance (logged by the caller's action). */
  left: (string | null)[]
}

export async function addressToFollow(ctx: Pick<ActionContext, 'ec2' | 'self'>): Promise<Following> {
  const { self } = ctx
  const addresses = (await describeAddresses(ctx.ec2, self.instanceId)).flatMap((a) => (a.allocationId ? [{ ...a, allocationId: a.allocationId }] : []))
  const [address, ...left] = addresses.sort((a, b) => Number(b.privateIp === self.privateIp) - Number(a.privateIp === self.privateIp))
  return { address: address ?? null, left: left.map((a) => a.publicIp) }
}
