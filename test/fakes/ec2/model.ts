/** The fake EC2's world: plain records in maps, owned by one `Ec2State`. Actions and the lifecycle mutate it. */
import type { Clock } from '../clock'
import type { Disks } from './disks'

export type InstanceStateName =
  'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped'
export type StatusName = 'initializing' | 'ok' | 'not-applicable'
export type Lifecycle = 'spot' | 'on-demand'
export type Tags = Record<string, string>

/** EC2's numeric state codes (low byte), as the API prints them. */
export const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
}

export interface Instance {
  instanceId: string
  reservationId: string
  imageId: string
  instanceType: string
  az: string
  subnetId: string
  vpcId: string
  privateIp: string
  /** Auto-assigned public IP (an associated Elastic IP wins over it) */
  publicIp?: string
  mac: string
  securityGroupIds: string[]
  profile?: InstanceProfile
  keyName?: string
  /** Base64, as RunInstances received it */
  userData?: string
  tags: Tags
  /** Instance metadata tags (`MetadataOptions.InstanceMetadataTags=enabled`): IMDS serves the tags */
  metadataTags: boolean
  lifecycle: Lifecycle
  spotRequestId?: string
  clientToken?: string
  /** Epoch ms */
  launchTime: number
  state: InstanceStateName
  /** When the current state began, epoch ms */
  stateSince: number
  status: StatusName
  stateReason?: { code: string; message: string }
  /** AWS-side termination (spot reclaim), epoch ms */
  terminateAt?: number
  /** Every state it entered and when, oldest first: what the bill (billing.ts) reads */
  stateLog: Array<{ state: InstanceStateName; at: number }>
}

export interface Image {
  imageId: string
  name: string
  description?: string
  ownerId: string
  state: 'pending' | 'available' | 'failed'
  createdAt: number
  sourceInstanceId?: string
  snapshotId?: string
  /** As CreateImage received it (the agent's choice shows in assertions) */
  noReboot?: boolean
  /** What the image boots (absent: x86_64); RunInstances refuses a type of another architecture. */
  architecture?: 'x86_64' | 'arm64'
  /** ENA driver (absent: true, as Amazon's current images); RunInstances refuses an ENA-required type without it. */
  enaSupport?: boolean
  /** As DescribeImages names it (absent: not set on the image, as on most) */
  bootMode?: 'legacy-bios' | 'uefi' | 'uefi-preferred'
  tags: Tags
}

export interface Snapshot {
  snapshotId: string
  volumeId: string
  ownerId: string
  state: 'pending' | 'completed'
  startTime: number
  volumeSize: number
  description: string
  tags: Tags
}

export interface Subnet {
  subnetId: string
  vpcId: string
  az: string
  cidr: string
  mapPublicIp: boolean
  tags: Tags
}

export interface SecurityGroup {
  groupId: string
  groupName: string
  vpcId: string
}

export interface InstanceProfile {
  name: string
  arn: string
  id: string
}

export interface Address {
  allocationId: string
  publicIp: string
  instanceId?: string
  associationId?: string
  tags: Tags
}

export interface SpotPoint {
  instanceType: string
  az: string
  productDescription: string
  price: number
  /** Epoch ms */
  at: number
}

export interface Durations {
  pendingMs: number
  statusOkMs: number
  shuttingDownMs: number
  imageMs: number
}

export const DEFAULT_DURATIONS: Durations = {
  pendingMs: 5_000,
  statusOkMs: 20_000,
  shuttingDownMs: 10_000,
  imageMs: 30_000,
}

/** Owner of Amazon's public images (launch AMIs seeded as not `self`). */
export const AMAZON_OWNER_ID = '137112412989'

export interface Ec2State {
  region: string
  accountId: string
  zones: string[]
  clock: Clock
  durations: Durations
  instances: Map<string, Instance>
  images: Map<string, Image>
  snapshots: Map<string, Snapshot>
  subnets: Map<string, Subnet>
  vpcs: Map<string, { vpcId: string; cidr: string }>
  securityGroups: Map<string, SecurityGroup>
  profiles: Map<string, InstanceProfile>
  keyPairs: Set<string>
  addresses: Map<string, Address>
  spotPrices: SpotPoint[]
  spotPriceModel?: (instanceType: string, az: string, atMs: number) => number | undefined
  /** Whether a spot pool (type, AZ) has capacity at a moment; absent: every pool always has. */
  spotCapacityModel?: (instanceType: string, az: string, atMs: number) => boolean
  /** Spot capacity left per pool (`type|az`, capacity.ts); a pool absent has plenty */
  spareCapacity: Map<string, number>
  /** GetSpotPlacementScores configurations of the account → when first asked in the last 24 h, epoch ms */
  placementConfigs: Map<string, number>
  /** ClientToken → reservation id and the parameters it was first used with */
  clientTokens: Map<string, { reservationId: string; fingerprint: string }>
  launchListeners: Array<(instance: Instance) => void>
  /** Root volumes as directories (absent: instances carry no files) */
  disks?: Disks
  nextId(prefix: string, width?: number): string
}

export function createState(opts: {
  region: string
  accountId: string
  zones: string[]
  clock: Clock
  durations: Durations
  disks?: Disks
}): Ec2State {
  let counter = 0
  return {
    ...opts,
    instances: new Map(),
    images: new Map(),
    snapshots: new Map(),
    subnets: new Map(),
    vpcs: new Map(),
    securityGroups: new Map(),
    profiles: new Map(),
    keyPairs: new Set(),
    addresses: new Map(),
    spotPrices: [],
    spareCapacity: new Map(),
    placementConfigs: new Map(),
    clientTokens: new Map(),
    launchListeners: [],
    nextId: (prefix, width = 17) => `${prefix}-${(++counter).toString(16).padStart(width, '0')}`,
  }
}

/** The public IP an instance shows: its Elastic IP if one is associated, else its auto-assigned one. */
export function publicIpOf(state: Ec2State, instance: Instance): string | undefined {
  for (const address of state.addresses.values())
    if (address.instanceId === instance.instanceId) return address.publicIp
  return instance.state === 'running' || instance.state === 'pending' ? instance.publicIp : undefined
}
