/**
 * A stateful workload in an e2e world, as its user sets it up: a data volume (DeleteOnTermination=false)
 * on the agent's instance, the stateful mode on through the client API, and the workload writing on it
 * through the fake EC2 every simulated minute (the ground truth of what was written). Plus a zone out of
 * capacity for every launch, spot and on-demand, as EC2 answers it.
 */
import type { FakeEc2 } from '../fakes'
import type { AgentRow } from './api'
import { eventually } from './eventually'
import type { E2eWorld } from './fleet-harness'

export const DATA_DEVICE = '/dev/sdf'
const MINUTE = 60_000
/** Real ms between two looks at the simulated clock: well under a simulated minute at the speeds used. */
const LOOK_EVERY_MS = 50

export interface StatefulWorkload {
  dataVolumeId: string
  /** The managed interface the agent put on its instance. */
  eni: { networkInterfaceId: string; privateIp: string; subnetId: string }
}

/**
 * Seeds the data volume on the agent's instance (holding `content`, written now), turns the stateful mode
 * on with `settings` (client API names: rpoMinutes, autoSwitchEnabled...), and answers once the agent has
 * tagged the volume as its data and attached its managed interface.
 */
export async function statefulWorkload(
  world: E2eWorld,
  agent: AgentRow,
  settings: Record<string, unknown>,
  content: string[] = [],
): Promise<StatefulWorkload> {
  const ec2 = world.fleet.region.ec2
  const instanceId = agent.instanceId!
  const dataVolumeId = ec2.seed.addVolume({
    instanceId,
    device: DATA_DEVICE,
    size: 20,
    deleteOnTermination: false,
    content,
  })
  await world.api.configure(agent.id, { stateful: true, ...settings })
  const eni = await eventually(
    () =>
      ec2.state.volumes.get(dataVolumeId)?.tags.SpotGuardRole === 'data-volume'
        ? [...ec2.state.networkInterfaces.values()].find(
            (i) => i.tags.SpotGuardRole === 'workload-interface' && i.attachment?.instanceId === instanceId,
          )
        : undefined,
    { what: `the stateful inventory of ${agent.logicalAgentId}`, timeoutMs: 60_000 },
  )
  return { dataVolumeId, eni }
}

export interface Writes {
  /** Every record written, with the volume it landed on, oldest first: the ground truth once a volume is gone. */
  written: ReturnType<FakeEc2['writeWorkloads']>
  stop: () => void
}

/**
 * The workload on `instanceId` appends a record to its attached data volumes at every simulated minute
 * (none once it stops running or they are detached).
 */
export function writeEveryMinute(ec2: FakeEc2, instanceId: string): Writes {
  const written: Writes['written'] = []
  let nextAt = ec2.state.clock.now() + MINUTE
  const timer = setInterval(() => {
    const now = ec2.state.clock.now()
    if (now < nextAt) return
    nextAt = now - (now % MINUTE) + MINUTE
    written.push(...ec2.writeWorkloads({ instanceIds: [instanceId] }))
  }, LOOK_EVERY_MS)
  return { written, stop: () => clearInterval(timer) }
}

/**
 * Every RunInstances into `az` answers InsufficientInstanceCapacity, spot and on-demand alike (AWS:
 * "We currently do not have sufficient capacity in the Availability Zone you requested"). Answers the
 * function that gives the capacity back.
 */
export function noCapacityIn(ec2: FakeEc2, az: string): () => void {
  return ec2.failWhen('RunInstances', (params) => {
    const launchAz =
      params.get('Placement.AvailabilityZone') ?? ec2.state.subnets.get(params.get('SubnetId') ?? '')?.az
    return launchAz === az
      ? {
          code: 'InsufficientInstanceCapacity',
          message: `We currently do not have sufficient capacity in the Availability Zone you requested (${az}).`,
        }
      : undefined
  })
}
