/**
 * The simulated AWS region of the fleet, on the fakes' region core (startRegionServices: fake EC2,
 * Price List, one fake IMDS per instance started as instances launch) with spot prices from the
 * seeded market, moving per type and AZ (each type's pools running out of capacity on their own), and one workload per agent seeded as a customer has it: its own VPC,
 * a golden image carrying the installed agent, an instance launched from it and tagged
 * `LogicalAgentId` (instance metadata tags on), an Elastic IP. Instances carry their files (disks
 * under `disksDir`), so images and launches copy what is installed. The clock runs `speed` times
 * faster than real time; `tick()` applies due transitions and the random signals.
 */
import {
  startRegionServices,
  seedWorkload,
  directoryDisks,
  DEFAULT_ON_DEMAND,
  type DiskFiles,
  type FakeEc2,
  type FakeElbv2,
  type FakeImds,
  type FakePricing,
  type Durations,
} from '../../test/fakes'
import { scaledClock } from '../../test/fakes/clock'
import type { HostInstance } from './agents'
import { hasCapacity, marketOfType, spotPrice, type MarketOptions } from './market'
import { INSTANCE_TYPES } from '../../src/engine/instance-types'
import { signalsBetween } from './signals'

export interface SimRegionOptions {
  /** Logical agent ids: one workload each. */
  agents: string[]
  speed: number
  /** Epoch ms from which the simulated clock runs `speed` times faster (the control plane's SIM_CLOCK). */
  origin: number
  seed: number
  /** Random rebalance recommendations and interruption notices (off for tests that inject their own). */
  signals: boolean
  region?: string
  instanceType?: string
  /** How long EC2 transitions take on the simulated clock (defaults: the fake's). */
  durations?: Partial<Durations>
  /** Each workload starts on spot in its AZ, or on-demand. */
  lifecycle?: 'spot' | 'on-demand'
  /** The instances' and images' disks live here. */
  disksDir: string
  /** What the golden image of a workload carries (its installed agent). */
  install(logicalAgentId: string): DiskFiles
  /** The tags of a workload's instance (default `LogicalAgentId` and `Name`). */
  workloadTags?: (logicalAgentId: string) => Record<string, string>
}

export interface SimRegion {
  readonly region: string
  readonly zones: string[]
  readonly ec2: FakeEc2
  readonly pricing: FakePricing
  readonly elbv2: FakeElbv2
  readonly clock: ReturnType<typeof scaledClock>
  readonly onDemandPrice: number
  /** Every instance with its IMDS url (for the agent supervisor). */
  hosts(): HostInstance[]
  imdsOf(instanceId: string): FakeImds | undefined
  /** The spot prices of every AZ now, of the region's type or of `instanceType`. */
  prices(instanceType?: string): Record<string, number>
  /** The type the workloads start on. */
  readonly instanceType: string
  /** The Price List's on-demand price of a type (the region's own when the market knows no other). */
  onDemandPriceOf(instanceType: string): number
  /** The spot interruption notice: IMDS shows it now, EC2 terminates the instance `inSeconds` (simulated) later. */
  interrupt(instanceId: string, inSeconds?: number): void
  rebalance(instanceId: string): void
  /** Applies due EC2 transitions and, when enabled, the signals due since the last tick. */
  tick(): void
  /** Counts of signals sent so far. */
  readonly sent: { rebalance: number; interrupt: number }
  close(): Promise<void>
}

export async function startSimRegion(options: SimRegionOptions): Promise<SimRegion> {
  const region = options.region ?? 'us-east-1'
  const instanceType = options.instanceType ?? 't3.medium'
  const clock = scaledClock(options.origin, options.speed)
  const disks = directoryDisks(options.disksDir)
  const services = await startRegionServices({ region, clock, durations: options.durations, disks })
  const { ec2, pricing } = services
  const onDemandPrice = DEFAULT_ON_DEMAND[region]?.[instanceType] ?? 0.0416
  const market: MarketOptions = { seed: options.seed, onDemandPrice, zones: ec2.state.zones }
  // Every type of the shipped table has its own market, priced on-demand as the Price List lists it.
  const markets = new Map<string, MarketOptions>([[instanceType, market]])
  for (const t of INSTANCE_TYPES) {
    if (t.instanceType === instanceType) continue
    const listed = DEFAULT_ON_DEMAND[region]?.[t.instanceType]
    if (listed === undefined && region === 'us-east-1')
      pricing.setOnDemandPrice(region, t.instanceType, t.onDemandUsEast1)
    markets.set(t.instanceType, marketOfType(market, t.instanceType, listed ?? t.onDemandUsEast1))
  }
  const marketOf = (type: string) => markets.get(type)
  ec2.setSpotPriceModel((type, az, atMs) => {
    const m = marketOf(type)
    return m && spotPrice(m, az, atMs)
  })
  ec2.setSpotCapacityModel((type, az, atMs) => {
    const m = marketOf(type)
    return m ? hasCapacity(m, az, atMs) : true
  })

  // Seeding launches the instance, which starts its IMDS.
  options.agents.forEach((logicalAgentId, n) => {
    const az = ec2.state.zones[n % ec2.state.zones.length]
    const imageId = ec2.seed.addImage({
      ownerId: 'self',
      name: `golden-${logicalAgentId}`,
      files: options.install(logicalAgentId),
    })
    const { instanceId } = seedWorkload(ec2, {
      instanceType,
      lifecycle: options.lifecycle ?? 'spot',
      az,
      imageId,
      metadataTags: true,
    })
    ec2.instance(instanceId)!.tags = options.workloadTags?.(logicalAgentId) ?? {
      LogicalAgentId: logicalAgentId,
      Name: logicalAgentId,
    }
  })
  await Promise.all(services.starting.values())

  const sent = { rebalance: 0, interrupt: 0 }
  // Agents run on the simulated clock too: IMDS shows the termination time EC2 keeps.
  const interrupt = (instanceId: string, inSeconds = 120) => {
    const at = clock.now() + inSeconds * 1000
    services.imds.get(instanceId)?.interrupt({ action: 'terminate', time: at })
    ec2.scheduleTermination(instanceId, at)
    sent.interrupt++
  }
  const rebalance = (instanceId: string) => {
    services.imds.get(instanceId)?.rebalance(clock.now())
    sent.rebalance++
  }
  let lastTick = clock.now()
  return {
    region,
    zones: ec2.state.zones,
    ec2,
    pricing,
    elbv2: services.elbv2,
    clock,
    onDemandPrice,
    instanceType,
    onDemandPriceOf: (type) => marketOf(type)?.onDemandPrice ?? onDemandPrice,
    hosts: () =>
      [...ec2.state.instances.values()].map((i) => ({
        instanceId: i.instanceId,
        state: i.state,
        tags: i.tags,
        imdsUrl: services.imds.get(i.instanceId)?.url ?? null,
        disk: disks.instanceDir(i.instanceId),
      })),
    imdsOf: (instanceId) => services.imds.get(instanceId),
    prices: (type = instanceType) => {
      const m = marketOf(type)
      return Object.fromEntries(ec2.state.zones.map((az) => [az, (m && spotPrice(m, az, clock.now())) ?? 0]))
    },
    interrupt,
    rebalance,
    tick() {
      ec2.tick()
      const now = clock.now()
      if (options.signals) {
        for (const i of ec2.state.instances.values()) {
          if (i.state !== 'running' || i.lifecycle !== 'spot' || !i.tags.LogicalAgentId || i.terminateAt)
            continue
          for (const signal of signalsBetween(options.seed, i.instanceId, lastTick, now)) {
            if (signal.kind === 'rebalance') rebalance(i.instanceId)
            else interrupt(i.instanceId)
          }
        }
      }
      lastTick = now
    },
    sent,
    close: services.close,
  }
}
