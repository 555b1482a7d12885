/**
 * What every invariant reads of one snapshot, computed once: D1's agents by workload, its live replicas
 * and active instances, EC2's instances by id, whether D1 has had time to hear of a change, and the
 * collector of divergences.
 */
import type { D1Agent, D1Replica, D1Snapshot, Ec2Instance, Ec2Snapshot, SoakLog } from './snapshot'
import { GRACE_MS, heardAt } from './windows'

/** a-f: invariants.ts; g-j: the stateful workloads' data, volumes and interfaces (stateful.ts). */
export type Invariant = 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h' | 'i' | 'j'

export interface Divergence {
  /** Simulated epoch ms of the check that found it. */
  at: number
  invariant: Invariant
  workload: string
  /** What it is about (an instance, a notice, a launch): the same subject found again is the same divergence. */
  subject: string
  ec2: string
  d1: string
}

export const LIVE_REPLICA = new Set(['launching', 'syncing', 'ready'])

export interface Facts {
  ec2: Ec2Snapshot
  d1: D1Snapshot
  log: SoakLog
  at: number
  /** Agents of D1 not deleted, by logical id (the workload). */
  agentOf: Map<string, D1Agent>
  workloadOfAgent: Map<string, string>
  liveReplicas: D1Replica[]
  /** Instances of replicas D1 says EC2 runs: live ones, and those being terminated (`terminating`). */
  runningReplicaIds: Set<string>
  activeInD1: Set<string>
  /** Instances D1 says EC2 ends at an announced time still ahead (an interrupted one): they run until then. */
  endingInD1: Set<string>
  /** Instances D1 has any record of. */
  knownToD1: Set<string>
  ec2ById: Map<string, Ec2Instance>
  /** Whether D1 has had GRACE_MS to hear of a change EC2 made at `when` (outages excepted). */
  settled(when: number): boolean
  diverge(invariant: Invariant, workload: string, subject: string, ec2Says: string, d1Says: string): void
  found: Divergence[]
}

export function factsOf(ec2: Ec2Snapshot, d1: D1Snapshot, log: SoakLog): Facts {
  const at = ec2.at
  const liveReplicas = d1.replicas.filter((r) => LIVE_REPLICA.has(r.status))
  const runningReplicaIds = new Set(
    d1.replicas.flatMap((r) =>
      r.instanceId && (LIVE_REPLICA.has(r.status) || r.status === 'terminating') ? [r.instanceId] : [],
    ),
  )
  const found: Divergence[] = []
  return {
    ec2,
    d1,
    log,
    at,
    agentOf: new Map(d1.agents.filter((a) => a.status !== 'deleted').map((a) => [a.logicalAgentId, a])),
    workloadOfAgent: new Map(d1.agents.map((a) => [a.id, a.logicalAgentId])),
    liveReplicas,
    runningReplicaIds,
    activeInD1: new Set(d1.instances.filter((i) => i.status === 'active').map((i) => i.instanceId)),
    endingInD1: new Set(
      d1.instances
        .filter((i) => i.status === 'terminating' && i.terminatedAt !== null && i.terminatedAt > at)
        .map((i) => i.instanceId),
    ),
    knownToD1: new Set([...d1.instances.map((i) => i.instanceId), ...runningReplicaIds]),
    ec2ById: new Map(ec2.instances.map((i) => [i.instanceId, i])),
    settled: (when) => heardAt(log, when) + GRACE_MS <= at,
    diverge: (invariant, workload, subject, ec2Says, d1Says) =>
      found.push({ at, invariant, workload, subject, ec2: ec2Says, d1: d1Says }),
    found,
  }
}

export const isUp = (i: Ec2Instance) => i.state === 'pending' || i.state === 'running'
export const isGone = (i: Ec2Instance) => i.state === 'shutting-down' || i.state === 'terminated'
export const ids = (instances: Ec2Instance[]) => instances.map((i) => i.instanceId).join(', ') || 'nothing'
export const iso = (ms: number | null) => (ms === null ? '?' : new Date(ms).toISOString())
export const describe = (i: Ec2Instance) =>
  `${i.instanceId} ${i.state} since ${iso(i.stateSince)} (${i.lifecycle} ${i.az}${i.replicaTag ? `, replica ${i.replicaTag}` : ''})`
