/**
 * The EC2 side of a snapshot, read from the simulated region's fake EC2 in this process: every instance
 * of the soak's workloads, what launched it, whether it holds its workload's Elastic IP, and what EC2
 * charged for it over the ledger's window.
 */
import { chargeOf, runningPeriods } from '../../test/fakes/ec2/billing'
import { DEFAULT_ON_DEMAND } from '../../test/fakes/pricing'
import type { Instance } from '../../test/fakes/ec2/model'
import type { SimRegion } from '../fleet/region'
import { ledgerWindow } from './ledger'
import type { Ec2Instance, Ec2Snapshot } from './snapshot'

export interface Ec2ViewOptions {
  /** Workload → the allocation id of its Elastic IP. */
  addresses: ReadonlyMap<string, string>
  /** Workload → when the control plane could first price it (ledger.ts pricedFrom): the bill starts there. */
  pricedFrom: ReadonlyMap<string, number>
}

export function ec2Snapshot(region: SimRegion, options: Ec2ViewOptions): Ec2Snapshot {
  const { ec2 } = region
  const at = region.clock.now()
  const holder = new Map(
    [...options.addresses].map(([workload, id]) => [workload, ec2.state.addresses.get(id)?.instanceId]),
  )
  // The Price List's figure (the soak never changes it).
  const onDemandPrice = (type: string) => DEFAULT_ON_DEMAND[region.region]?.[type] ?? region.onDemandPrice
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
      launchKey: launchKeyOf(region, i),
      reservationId: i.reservationId,
      runningPeriods: runningPeriods(i, at),
      holdsAddress: holder.get(workload) === i.instanceId,
      billed: to > from ? chargeOf(ec2.state, i, { onDemandPrice, from, to }).cost : 0,
    })
  }
  const addressesAdrift = [...holder].filter(([, instanceId]) => !instanceId).map(([workload]) => workload)
  return { at, instances, addressesAdrift, onDemandPrice: region.onDemandPrice }
}

/**
 * What launched an instance, so that two launches for one command show: a replica's id (emergency
 * replacements included), else the switch command of the image it was launched from, else its ClientToken.
 */
export function launchKeyOf(region: SimRegion, i: Instance): string | null {
  if (i.tags.ReplicaId) return `replica:${i.tags.ReplicaId}`
  const command = region.ec2.state.images.get(i.imageId)?.tags.SpotGuardCommandId
  if (command) return `switch:${command}`
  return i.clientToken ? `token:${i.clientToken}` : null
}
