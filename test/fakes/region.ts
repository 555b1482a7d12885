/**
 * A simulated region: fake EC2 + Price List + one fake IMDS per instance (started for every launch too).
 * `startRegionServices` is that core, shared with the fleet simulator (scripts/fleet/region.ts);
 * `startRegion` seeds N managed instances and serves a small JSON control API (region-control.ts).
 * CLI: `npx tsx test/fakes/region.ts [--instances N] [--region R] [--port P]` prints one JSON line and serves.
 */
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { systemClock, type Clock } from './clock'
import type { Disks } from './ec2/disks'
import type { Durations } from './ec2/model'
import { startFakeEc2, type FakeEc2 } from './ec2/server'
import { startFakeElbv2, type FakeElbv2 } from './elbv2/server'
import { imdsFor } from './imds/link'
import type { FakeImds } from './imds/server'
import { serve } from './http'
import { DEFAULT_ON_DEMAND, startFakePricing, type FakePricing } from './pricing'
import { handleControl } from './region-control'

export interface RegionOptions {
  region?: string
  /** Managed instances to seed (1) */
  instances?: number
  instanceType?: string
  clock?: Clock
  /** Shorter than the fake EC2's defaults: a simulator runs on the wall clock */
  durations?: Partial<Durations>
  /** Control API port (0 = free) */
  port?: number
}

export interface FakeRegion {
  control: string
  ec2: FakeEc2
  pricing: FakePricing
  /** Instance id → its IMDS; ready ones only (see `imdsOf`) */
  imds: Map<string, FakeImds>
  imdsOf(instanceId: string): Promise<FakeImds>
  seededInstanceIds: string[]
  close(): Promise<void>
}

export const SIMULATOR_DURATIONS: Durations = {
  pendingMs: 2_000,
  statusOkMs: 3_000,
  shuttingDownMs: 2_000,
  imageMs: 5_000,
  volumeMs: 2_000,
  attachMs: 2_000,
  snapshotMs: 10_000,
}

/** Spot prices drift around 30–40 % of on-demand, differently per zone, over a few hours. */
export function driftingSpotPrice(onDemand: Record<string, number>) {
  return (instanceType: string, az: string, atMs: number): number | undefined => {
    const base = onDemand[instanceType]
    if (base === undefined) return undefined
    const zone = az.charCodeAt(az.length - 1) - 97
    const drift = Math.sin(atMs / 10_800_000 + zone * 1.7)
    return Number((base * (0.33 + zone * 0.03 + drift * 0.04)).toFixed(6))
  }
}

/**
 * What every simulated region is made of: a fake EC2 and Price List on one clock, and an IMDS server
 * for every instance, started as the instance is seeded or launched (its role credentials are the
 * ones EC2 and the Price List accept).
 */
export interface RegionServices {
  ec2: FakeEc2
  pricing: FakePricing
  /** The region's load balancer target groups (the stateful mode drains them) */
  elbv2: FakeElbv2
  /** Instance id → its IMDS, once started */
  imds: Map<string, FakeImds>
  /** Instance id → its IMDS being started: every instance seeded or launched so far */
  starting: Map<string, Promise<FakeImds>>
  /** Waits for an instance's IMDS; throws for an unknown instance */
  imdsOf(instanceId: string): Promise<FakeImds>
  close(): Promise<void>
}

export async function startRegionServices(options: {
  region: string
  clock: Clock
  durations?: Partial<Durations>
  /** Instances and images carry files (their root volumes as directories) */
  disks?: Disks
}): Promise<RegionServices> {
  const ec2 = await startFakeEc2({
    region: options.region,
    clock: options.clock,
    durations: options.durations,
    disks: options.disks,
  })
  const pricing = await startFakePricing({ clock: options.clock })
  const elbv2 = await startFakeElbv2(ec2)
  const imds = new Map<string, FakeImds>()
  const starting = new Map<string, Promise<FakeImds>>()
  ec2.onLaunch((instance) => {
    if (starting.has(instance.instanceId)) return
    const started = imdsFor(ec2, instance.instanceId, { pricing, elbv2 }).then((server) => {
      imds.set(instance.instanceId, server)
      return server
    })
    starting.set(instance.instanceId, started)
  })
  return {
    ec2,
    pricing,
    elbv2,
    imds,
    starting,
    imdsOf: (instanceId) => {
      const started = starting.get(instanceId)
      if (!started) throw new Error(`no instance ${instanceId}`)
      return started
    },
    close: async () => {
      await Promise.all([...starting.values()].map(async (s) => (await s).close()))
      await Promise.all([ec2.close(), pricing.close(), elbv2.close()])
    },
  }
}

/** The standalone region: SIMULATOR_DURATIONS, drifting spot prices, N seeded instances, the control API. */
export async function startRegion(options: RegionOptions = {}): Promise<FakeRegion> {
  const region = options.region ?? 'us-east-1'
  const services = await startRegionServices({
    region,
    clock: options.clock ?? systemClock,
    durations: { ...SIMULATOR_DURATIONS, ...options.durations },
  })
  const { ec2, pricing, imdsOf, starting } = services
  ec2.setSpotPriceModel(driftingSpotPrice(DEFAULT_ON_DEMAND[region] ?? DEFAULT_ON_DEMAND['us-east-1']!))

  const { vpcId, subnets } = ec2.seed.addVpc()
  const securityGroupId = ec2.seed.addSecurityGroup(vpcId, 'web')
  const profile = ec2.seed.addInstanceProfile('spotguard-web')
  const keyName = ec2.seed.addKeyPair('ops-key')
  const imageId = ec2.seed.addImage({ name: 'al2023-ami-2026.1.0-x86_64' })
  const seededInstanceIds: string[] = []
  for (let n = 1; n <= (options.instances ?? 1); n++) {
    const az = ec2.state.zones[(n - 1) % ec2.state.zones.length]!
    const instance = ec2.seed.addInstance({
      imageId,
      instanceType: options.instanceType ?? 't3.medium',
      subnetId: subnets[az]!,
      securityGroupIds: [securityGroupId],
      profileName: profile.name,
      keyName,
      tags: { Name: `web-${n}`, LogicalAgentId: `agent-web-${n}` },
      userData: `#!/bin/bash\necho web-${n}`,
      lifecycle: 'spot',
    })
    ec2.seed.addAddress({ instanceId: instance.instanceId })
    seededInstanceIds.push(instance.instanceId)
  }

  await Promise.all(seededInstanceIds.map(imdsOf))
  const control = await serve(
    (req) => handleControl(req, { ec2, pricing, region, imdsOf, starting }),
    options.port,
  )
  return {
    control: control.url,
    ec2,
    pricing,
    imds: services.imds,
    imdsOf,
    seededInstanceIds,
    close: async () => {
      await control.close()
      await services.close()
    },
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      instances: { type: 'string', default: '1' },
      region: { type: 'string', default: 'us-east-1' },
      port: { type: 'string', default: '0' },
    },
  })
  const sim = await startRegion({
    instances: Number(values.instances),
    region: values.region,
    port: Number(values.port),
  })
  const instances = await Promise.all(
    sim.seededInstanceIds.map(async (instanceId) => ({
      instanceId,
      imds: (await sim.imdsOf(instanceId)).url,
    })),
  )
  process.stdout.write(
    `${JSON.stringify({ control: sim.control, ec2: sim.ec2.url, pricing: sim.pricing.url, region: values.region, instances })}\n`,
  )
  const stop = () => void sim.close().then(() => process.exit(0))
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
