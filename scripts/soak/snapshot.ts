/**
 * What the checker compares at one moment: the simulated region's EC2 (the ground truth, with what it
 * charged) and the control plane's D1 rows of the soak's client, plus what the soak itself did (the
 * notices it sent, the Worker's outage). Plain data: the checker over it is pure.
 */

/** One EC2 instance of a soak workload (tag `LogicalAgentId`), as the fake EC2 holds it. */
export interface Ec2Instance {
  instanceId: string
  /** Its `LogicalAgentId` tag. */
  workload: string
  state: 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped'
  /** When it entered its current state, simulated epoch ms. */
  stateSince: number
  launchTime: number
  /** Spot reclaim scheduled by a notice (epoch ms), not yet applied. */
  terminateAt: number | null
  lifecycle: 'spot' | 'on-demand'
  az: string
  /** Its `ReplicaId` tag (a replica launch, emergency replacements included). */
  replicaTag: string | null
  /** What launched it (a replica id, a switch command, a ClientToken); null for the seeded instance. */
  launchKey: string | null
  reservationId: string
  /** [start, end) of each period it ran; a period still running ends at the snapshot's time. */
  runningPeriods: Array<[number, number]>
  /** Whether it holds its workload's Elastic IP. */
  holdsAddress: boolean
  /** USD EC2 charged for it over the ledger's window (ledger.ts; 0 while D1 cannot price its workload). */
  billed: number
}

export interface Ec2Snapshot {
  /** Simulated epoch ms of the snapshot. */
  at: number
  instances: Ec2Instance[]
  /** Workloads whose Elastic IP is associated with no instance. */
  addressesAdrift: string[]
  /** Workload → the public IP of its Elastic IP (what D1's `instances.public_ip` names). */
  addressIps: Record<string, string>
  /** USD per hour on-demand of the workloads' instance type (the Price List). */
  onDemandPrice: number
  /** The data volumes of the soak's workloads (seeded for one, or SpotGuard-tagged). */
  volumes: Ec2Volume[]
  /** The SpotGuard-tagged network interfaces. */
  interfaces: Ec2Interface[]
}

/** One record a simulated workload wrote, as the fake EC2 holds it (ec2 `VolumeRecord`). */
export interface WrittenRecord {
  seq: number
  at: number
  instanceId: string
  data: string
}

/** A data volume as the fake EC2 holds it, content included. */
export interface Ec2Volume {
  volumeId: string
  az: string
  state: 'creating' | 'available' | 'in-use'
  /** The instance it is attached to (in any attachment state), its device. */
  attachedTo: string | null
  device: string | null
  createdAt: number
  tags: Record<string, string>
  /** Since when the checker has seen it available without a break (null: attached or creating). */
  availableSince: number | null
  content: WrittenRecord[]
}

/** A SpotGuard-tagged network interface. */
export interface Ec2Interface {
  eniId: string
  attachedTo: string | null
  tags: Record<string, string>
  /** Since when the checker has seen it detached without a break (null: attached). */
  availableSince: number | null
}

export interface D1Agent {
  id: string
  logicalAgentId: string
  instanceId: string | null
  status: string
  agentVersion: string | null
  autoTerminateEnabled: boolean
  terminateWaitSeconds: number
  createdAt: number
}

export interface D1Instance {
  agentId: string
  instanceId: string
  /** `terminating`: an interrupted instance until its announced end (`terminatedAt`). */
  status: 'active' | 'terminating' | 'terminated'
  mode: string
  /** The address it holds while it runs (its Elastic IP once one followed it onto it). */
  publicIp: string | null
  createdAt: number
  terminatedAt: number | null
}

export interface D1Replica {
  id: string
  agentId: string
  instanceId: string | null
  status: string
  createdAt: number
}

export interface D1Command {
  id: string
  agentId: string
  commandType: string
  status: string
  terminateWaitSeconds: number | null
  createdAt: number
  finishedAt: number | null
  expiresAt: number | null
}

export interface D1Switch {
  id: string
  agentId: string
  commandId: string | null
  trigger: string
  oldInstanceId: string | null
  newInstanceId: string | null
  receivedAt: number
}

/** Interruption notices, rebalances and terminations the control plane heard of. */
export interface D1Event {
  agentId: string
  instanceId: string | null
  kind: string
  action: string | null
  receivedAt: number
}

export interface D1Notification {
  agentId: string | null
  kind: string
  severity: string
  createdAt: number
  message: string
}

export interface D1Segment {
  agentId: string
  instanceId: string
  role: 'primary' | 'replica' | 'overlap'
  mode: 'spot' | 'ondemand' | 'unknown'
  poolId: string | null
  instanceType: string
  region: string
  startedAt: number
  endedAt: number | null
  /** The agent's base type: its on-demand price is the baseline whatever type runs (ledger/cost.ts). */
  baselineType?: string | null
}

export interface D1Snapshot {
  agents: D1Agent[]
  instances: D1Instance[]
  replicas: D1Replica[]
  commands: D1Command[]
  switches: D1Switch[]
  events: D1Event[]
  notifications: D1Notification[]
  segments: D1Segment[]
  spotPrices: Array<{ poolId: string; at: number; price: number }>
  onDemandPrices: Array<{ instanceType: string; region: string; at: number; price: number }>
}

/** A spot interruption notice the soak sent. */
export interface SentNotice {
  workload: string
  instanceId: string
  /** Simulated epoch ms. */
  sentAt: number
  terminationAt: number
}

/** What the soak did that the checker must know. */
export interface SoakLog {
  notices: SentNotice[]
  /** [down, up) simulated epoch ms of each Worker outage (up: null while down). */
  outages: Array<[number, number | null]>
  /** Stateful workloads (--stateful) → their RPO in minutes; empty without --stateful. */
  stateful: Record<string, number>
  /** What the simulated stateful workloads wrote, by `<instance> <device>`: their first and last record. */
  writes: Record<string, WorkloadWrites>
}

/** The writes of one instance's workload on one device. */
export interface WorkloadWrites {
  workload: string
  instanceId: string
  device: string
  first: WrittenRecord
  last: WrittenRecord
}
