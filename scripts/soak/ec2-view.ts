/**
 * The EC2 side of a snapshot, read from the simulated region's fake EC2 in this process: every instance
 * of the soak's workloads, what launched it, whether it holds its workload's Elastic IP, and what EC2
 * charged for it over the ledger's window; their data volumes with what they hold, and SpotGuard's
 * interfaces.
 */
import { clientToken } from '../../agent/src/actions/context'
import { chargeOf, runningPeriods, type BillOptions } from '../../test/fakes/ec2/billing'
import type { Ec2State, Instance } from '../../test/fakes/ec2/model'
import type { SimRegion } from '../fleet/region'
import { ledgerWindow } from './ledger'
import type { Ec2Instance, Ec2Interface, Ec2Snapshot, Ec2Volume } from './snapshot'
import { SEEDED_FOR } from './stateful'

export interface Ec2ViewOptions {
  /** Workload → the allocation id of its Elastic IP. */
  addresses: ReadonlyMap<string, string>
  /** Workload → when the control plane could first price it (ledger.ts pricedFrom): the bill starts there. */
  pricedFrom: ReadonlyMap<string, number>
  /** What was charged at earlier snapshots, so that each one bills only the time since. */
  bills: GrowingBill
  /** Since when each volume and interface has been seen detached. */
  detached: DetachedSince
}

export function ec2Snapshot(region: SimRegion, options: Ec2ViewOptions): Ec2Snapshot {
  const { ec2 } = region
  const at = region.clock.now()
  const holder = new Map(
    [...options.addresses].map(([workload, id]) => [workload, ec2.state.addresses.get(id)?.instanceId]),
  )
  // The Price List's figure (the soak never changes it).
  const onDemandPrice = (type: string) => region.onDemandPriceOf(type)
  const instances: Ec2Instance[] = []
  for (const i of ec2.state.instances.values()) {
    const workload = i.tags.LogicalAgentId
    if (!workload) continue
    const start = options.pricedFrom.get(workload)
    const [from, to] = start === undefined ? [0, 0] : ledgerWindow(start, at)
    instances.push({
      instanceId: i.instanceId,
      workload,
      state: i.state,
      stateSince: i.stateSince,
      launchTime: i.launchTime,
      terminateAt: i.terminateAt ?? null,
      lifecycle: i.lifecycle,
      az: i.az,
      replicaTag: i.tags.ReplicaId ?? null,
      launchKey: launchKeyOf(ec2.state, i),
      reservationId: i.reservationId,
      runningPeriods: runningPeriods(i, at),
      holdsAddress: holder.get(workload) === i.instanceId,
      billed: to > from ? options.bills.costOf(ec2.state, i, { onDemandPrice, from, to }) : 0,
    })
  }
  const addressesAdrift = [...holder].filter(([, instanceId]) => !instanceId).map(([workload]) => workload)
  const addressIps = Object.fromEntries(
    [...options.addresses].flatMap(([workload, id]) => {
      const ip = ec2.state.addresses.get(id)?.publicIp
      return ip ? [[workload, ip]] : []
    }),
  )
  return {
    at,
    instances,
    addressesAdrift,
    addressIps,
    onDemandPrice: region.onDemandPrice,
    ...dataOf(ec2.state, at, options.detached),
  }
}

/**
 * The volumes seeded for a workload (tag SEEDED_FOR), SpotGuard-tagged or attached to a workload's
 * instance, with their content; the SpotGuard-tagged interfaces.
 */
function dataOf(
  state: Ec2State,
  at: number,
  detached: DetachedSince,
): Pick<Ec2Snapshot, 'volumes' | 'interfaces'> {
  const ofWorkload = (instanceId: string | undefined) =>
    instanceId !== undefined && state.instances.get(instanceId)?.tags.LogicalAgentId !== undefined
  const volumes: Ec2Volume[] = []
  for (const v of state.volumes.values()) {
    if (!v.tags[SEEDED_FOR] && v.tags.SpotGuardManaged !== 'true' && !ofWorkload(v.attachment?.instanceId))
      continue
    volumes.push({
      volumeId: v.volumeId,
      az: v.az,
      state: v.state,
      attachedTo: v.attachment?.instanceId ?? null,
      device: v.attachment?.device ?? null,
      createdAt: v.createdAt,
      tags: { ...v.tags },
      availableSince: detached.seen(v.volumeId, v.state === 'available', at),
      content: v.content.map((r) => ({ ...r })),
    })
  }
  const interfaces: Ec2Interface[] = []
  for (const i of state.networkInterfaces.values()) {
    if (i.tags.SpotGuardManaged !== 'true') continue
    interfaces.push({
      eniId: i.networkInterfaceId,
      attachedTo: i.attachment?.instanceId ?? null,
      tags: { ...i.tags },
      availableSince: detached.seen(i.networkInterfaceId, !i.attachment, at),
    })
  }
  return { volumes, interfaces }
}

/**
 * Since when a volume or interface has been detached, as far as the checks saw: the first check that
 * found it so (EC2 keeps no detach time), forgotten once it is attached again. An orphan is so judged
 * at the check after the one that first saw it, not before.
 */
export class DetachedSince {
  private readonly since = new Map<string, number>()

  seen(id: string, isDetached: boolean, at: number): number | null {
    if (!isDetached) {
      this.since.delete(id)
      return null
    }
    if (!this.since.has(id)) this.since.set(id, at)
    return this.since.get(id)!
  }
}

/**
 * What launched an instance, so that two launches for one command show. A switch's launch has the
 * ClientToken the agent derives from its command (`clientToken`), the command that made its image: tags
 * alone would mislead, as it inherits the `ReplicaId` of a promoted replica it was launched from. A
 * replica's launch (emergency replacements included) sets its own `ReplicaId` tag, whatever its token (an
 * installed agent's SDK makes up a random one). Anything else is known by its token.
 */
export function launchKeyOf(state: Ec2State, i: Instance): string | null {
  const command = state.images.get(i.imageId)?.tags.SpotGuardCommandId
  if (command && i.clientToken === clientToken('switch', command)) return `switch:${command}`
  if (i.tags.ReplicaId) return `replica:${i.tags.ReplicaId}`
  return i.clientToken ? `token:${i.clientToken}` : null
}

/**
 * Each instance's bill over a window that only grows at its end: a snapshot charges only the time since
 * the previous one (billing each second of a day for every instance at every check stalled this process,
 * which serves the fake EC2 and IMDS, for seconds: minutes of simulated time at 80×).
 */
export class GrowingBill {
  private readonly billed = new Map<string, { from: number; to: number; cost: number }>()

  costOf(state: Ec2State, instance: Instance, options: BillOptions & { from: number; to: number }): number {
    const seen = this.billed.get(instance.instanceId)
    const to = Math.min(options.to, state.clock.now())
    const cost =
      seen && seen.from === options.from && seen.to <= to
        ? seen.cost + chargeOf(state, instance, { ...options, from: seen.to, to }).cost
        : chargeOf(state, instance, { ...options, to }).cost
    this.billed.set(instance.instanceId, { from: options.from, to, cost })
    return cost
  }
}
