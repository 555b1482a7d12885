/** Seed helpers: the resources a workload needs before the agent runs (VPC, subnets, SGs, profile, AMI, instance, EIP). */
import { createInstance } from './actions/launch'
import type { DiskFiles } from './disks'
import { advance } from './lifecycle'
import { attachInterface, createInterface } from './interfaces'
import { addVolume, beginAttachment } from './volumes'
import {
  AMAZON_OWNER_ID,
  type Ec2State,
  type Image,
  type Instance,
  type InstanceProfile,
  type Lifecycle,
  type Tags,
} from './model'

export interface InstanceSeed {
  imageId: string
  instanceType: string
  subnetId: string
  securityGroupIds: string[]
  profileName?: string
  keyName?: string
  tags?: Tags
  /** Plain text; stored base64 as RunInstances would */
  userData?: string
  lifecycle?: Lifecycle
  /** IMDS serves the instance's tags (default off, as EC2 launches it) */
  metadataTags?: boolean
  /** `running` (status ok, the default) or `pending` */
  state?: 'running' | 'pending'
}

export interface Seeder {
  addVpc(opts?: { cidr?: string; mapPublicIp?: boolean }): { vpcId: string; subnets: Record<string, string> }
  addSecurityGroup(vpcId: string, name: string): string
  addInstanceProfile(name: string): InstanceProfile
  addKeyPair(name: string): string
  /** An own image (`ownerId: 'self'`) gets its root snapshot, with the same tags and time */
  addImage(opts?: {
    name?: string
    ownerId?: 'self' | 'amazon' | string
    tags?: Tags
    state?: Image['state']
    /** Epoch ms (default now) */
    createdAt?: number
    /** What its disk carries (needs the fake's `disks`): a golden image's installed software */
    files?: DiskFiles
    /** What it boots (default x86_64) */
    architecture?: Image['architecture']
    /** Whether it carries the ENA driver (default true) */
    enaSupport?: boolean
    bootMode?: Image['bootMode']
  }): string
  /** A standalone completed snapshot (not backing any image) */
  addSnapshot(opts?: { tags?: Tags; startTime?: number; description?: string }): string
  addInstance(seed: InstanceSeed): Instance
  addAddress(opts?: { instanceId?: string; tags?: Tags }): { allocationId: string; publicIp: string }
  /**
   * A data volume (available; attached at `device`, default `/dev/sdf`, of `instanceId` when given, in its
   * AZ, `deleteOnTermination` default false, as a customer's data volume is), holding `content` records.
   */
  addVolume(opts: {
    az?: string
    instanceId?: string
    device?: string
    size?: number
    deleteOnTermination?: boolean
    tags?: Tags
    content?: string[]
  }): string
  /** A network interface in the subnet (attached at `deviceIndex`, default 1, of `instanceId` when given). */
  addNetworkInterface(opts: {
    subnetId: string
    groupIds?: string[]
    instanceId?: string
    deviceIndex?: number
    tags?: Tags
  }): { networkInterfaceId: string; privateIp: string }
}

export function createSeeder(state: Ec2State): Seeder {
  let vpcs = 0
  let addresses = 0
  const addSnapshot = (opts: { tags?: Tags; startTime?: number; description?: string }): string => {
    const snapshotId = state.nextId('snap')
    state.snapshots.set(snapshotId, {
      snapshotId,
      volumeId: state.nextId('vol'),
      ownerId: state.accountId,
      state: 'completed',
      startTime: opts.startTime ?? state.clock.now(),
      volumeSize: 8,
      description: opts.description ?? '',
      tags: opts.tags ?? {},
    })
    return snapshotId
  }
  return {
    addVpc: (opts = {}) => {
      const vpcIndex = vpcs++
      const vpcId = state.nextId('vpc')
      const cidr = opts.cidr ?? `10.${vpcIndex}.0.0/16`
      state.vpcs.set(vpcId, { vpcId, cidr })
      const [a, b] = cidr.split('.')
      const subnets: Record<string, string> = {}
      state.zones.forEach((az, n) => {
        const subnetId = state.nextId('subnet')
        state.subnets.set(subnetId, {
          subnetId,
          vpcId,
          az,
          cidr: `${a}.${b}.${n + 1}.0/24`,
          mapPublicIp: opts.mapPublicIp ?? true,
          tags: { Name: `${az}-public` },
        })
        subnets[az] = subnetId
      })
      return { vpcId, subnets }
    },
    addSecurityGroup: (vpcId, name) => {
      const groupId = state.nextId('sg')
      state.securityGroups.set(groupId, { groupId, groupName: name, vpcId })
      return groupId
    },
    addInstanceProfile: (name) => {
      const profile = {
        name,
        arn: `arn:aws:iam::${state.accountId}:instance-profile/${name}`,
        id: `AIPA${state.nextId('X', 16).slice(2).toUpperCase()}`,
      }
      state.profiles.set(name, profile)
      return profile
    },
    addKeyPair: (name) => {
      state.keyPairs.add(name)
      return name
    },
    addImage: (opts = {}) => {
      const imageId = state.nextId('ami')
      const owner = opts.ownerId ?? 'amazon'
      const ownerId = owner === 'self' ? state.accountId : owner === 'amazon' ? AMAZON_OWNER_ID : owner
      const createdAt = opts.createdAt ?? state.clock.now()
      const tags = opts.tags ?? {}
      const snapshotId =
        ownerId === state.accountId
          ? addSnapshot({
              tags: { ...tags },
              startTime: createdAt,
              description: `Created by CreateImage for ${imageId}`,
            })
          : undefined
      state.images.set(imageId, {
        imageId,
        name: opts.name ?? `al2023-ami-${imageId}`,
        ownerId,
        state: opts.state ?? 'available',
        createdAt,
        snapshotId,
        architecture: opts.architecture,
        enaSupport: opts.enaSupport,
        bootMode: opts.bootMode,
        tags,
      })
      if (opts.files) {
        if (!state.disks) throw new Error('seed: image files need the fake EC2 started with disks')
        state.disks.writeImage(imageId, opts.files)
      }
      return imageId
    },
    addSnapshot: (opts = {}) => addSnapshot(opts),
    addInstance: (seed) => {
      const subnet = state.subnets.get(seed.subnetId)
      if (!subnet) throw new Error(`seed: no subnet ${seed.subnetId}`)
      const profile = seed.profileName ? state.profiles.get(seed.profileName) : undefined
      if (seed.profileName && !profile) throw new Error(`seed: no instance profile ${seed.profileName}`)
      const instance = createInstance(state, {
        imageId: seed.imageId,
        instanceType: seed.instanceType,
        subnet,
        securityGroupIds: seed.securityGroupIds,
        profile,
        keyName: seed.keyName,
        userData: seed.userData === undefined ? undefined : Buffer.from(seed.userData).toString('base64'),
        tags: seed.tags ?? {},
        lifecycle: seed.lifecycle ?? 'on-demand',
        metadataTags: seed.metadataTags,
      })
      if ((seed.state ?? 'running') === 'running') {
        advance(state, instance.instanceId)
        advance(state, instance.instanceId)
      }
      return instance
    },
    addAddress: (opts = {}) => {
      const n = ++addresses
      const allocationId = state.nextId('eipalloc')
      const publicIp = `3.${200 + Math.floor(n / 250)}.${n % 250}.${((n * 7) % 250) + 1}`
      state.addresses.set(allocationId, { allocationId, publicIp, tags: opts.tags ?? {} })
      if (opts.instanceId) {
        const address = state.addresses.get(allocationId)!
        address.instanceId = opts.instanceId
        address.associationId = state.nextId('eipassoc')
      }
      return { allocationId, publicIp }
    },
    addVolume: (opts) => {
      const instance = opts.instanceId ? state.instances.get(opts.instanceId) : undefined
      if (opts.instanceId && !instance) throw new Error(`seed: no instance ${opts.instanceId}`)
      const az = instance?.az ?? opts.az ?? state.zones[0]!
      const at = state.clock.now()
      const volume = addVolume(state, {
        az,
        size: opts.size ?? 20,
        tags: opts.tags,
        state: 'available',
        content: (opts.content ?? []).map((data, n) => ({
          seq: n + 1,
          at,
          instanceId: instance?.instanceId ?? '',
          data,
        })),
      })
      if (instance) {
        beginAttachment(state, volume, instance, opts.device ?? '/dev/sdf', {
          deleteOnTermination: opts.deleteOnTermination ?? false,
          attached: true,
        })
      }
      return volume.volumeId
    },
    addNetworkInterface: (opts) => {
      const subnet = state.subnets.get(opts.subnetId)
      if (!subnet) throw new Error(`seed: no subnet ${opts.subnetId}`)
      const eni = createInterface(state, subnet, { groupIds: opts.groupIds ?? [], tags: opts.tags })
      if (opts.instanceId) {
        const instance = state.instances.get(opts.instanceId)
        if (!instance) throw new Error(`seed: no instance ${opts.instanceId}`)
        attachInterface(state, eni, instance, opts.deviceIndex ?? 1)
      }
      return { networkInterfaceId: eni.networkInterfaceId, privateIp: eni.privateIp }
    },
  }
}
