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
  /** Data volumes CreateImage snapshotted with the root (image-volumes.ts); a launch recreates them */
  dataDevices?: ImageDataDevice[]
}

/** A data device of an image: a snapshot of the source's volume, recreated by every launch of the image. */
export interface ImageDataDevice {
  device: string
  snapshotId: string
  /** GiB */
  size: number
  volumeType: string
  deleteOnTermination: boolean
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
  /** CreateSnapshot of a volume: when it completes by the clock, epoch ms (image snapshots follow their image) */
  completesAt?: number
  /** Epoch ms */
  completedAt?: number
  /** CreateSnapshot of a volume: its content frozen at the request (absent: an image's root snapshot) */
  content?: VolumeRecord[]
}

/** One write of a simulated workload on a data volume (content.ts): the ground truth the soak checks. */
export interface VolumeRecord {
  /** Position in the volume's lineage, 1-based: a volume restored from a snapshot continues its numbering */
  seq: number
  /** Epoch ms by the fake's clock */
  at: number
  /** The instance whose workload wrote it */
  instanceId: string
  data: string
}

export type VolumeStateName = 'creating' | 'available' | 'in-use'
export type AttachmentStateName = 'attaching' | 'attached' | 'detaching'

/** An EBS data volume (root volumes are `disks`, not volumes): bound to one AZ, attached to one instance at most. */
export interface Volume {
  volumeId: string
  /** GiB */
  size: number
  az: string
  snapshotId?: string
  volumeType: string
  state: VolumeStateName
  /** Epoch ms */
  createdAt: number
  tags: Tags
  attachment?: {
    instanceId: string
    device: string
    state: AttachmentStateName
    /** When the current attachment state began, epoch ms */
    since: number
    /** Epoch ms */
    attachTime: number
    deleteOnTermination: boolean
  }
  /** What workloads wrote on it, oldest first (append-only) */
  content: VolumeRecord[]
}

/** A network interface created by CreateNetworkInterface (an instance's primary one is derived, interfaces.ts). */
export interface NetworkInterface {
  networkInterfaceId: string
  subnetId: string
  vpcId: string
  az: string
  privateIp: string
  mac: string
  description: string
  groupIds: string[]
  sourceDestCheck: boolean
  tags: Tags
  attachment?: {
    attachmentId: string
    instanceId: string
    deviceIndex: number
    /** Epoch ms */
    attachTime: number
    deleteOnTermination: boolean
  }
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
  /** Volume creating → available */
  volumeMs: number
  /** Volume attachment attaching → attached, and detaching → detached */
  attachMs: number
  /** Volume snapshot pending → completed */
  snapshotMs: number
}

export const DEFAULT_DURATIONS: Durations = {
  pendingMs: 5_000,
  statusOkMs: 20_000,
  shuttingDownMs: 10_000,
  imageMs: 30_000,
  volumeMs: 5_000,
  attachMs: 5_000,
  snapshotMs: 60_000,
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
  volumes: Map<string, Volume>
  networkInterfaces: Map<string, NetworkInterface>
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
    volumes: new Map(),
    networkInterfaces: new Map(),
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
