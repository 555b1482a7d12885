/**
 * The invariants between EC2 (the ground truth) and D1 at one moment, pure over a snapshot:
 *   a  outside a switch window, each workload has exactly one running primary, D1 names it, and EC2
 *      holds the workload's Elastic IP where D1 says (the primary, unless it did not follow: address.ts);
 *      every agent of D1 is a workload of EC2
 *   b  no running instance is untracked (here); no live replica points at a dead or no instance (statuses.ts)
 *   c  every notice led to one interruption switch or a notified failure (notices.ts)
 *   d  D1's instance and replica statuses match EC2 (statuses.ts)
 *   e  the ledger within 1 % of the bill (ledger.ts)
 *   f  no command launched twice (launches.ts)
 * Also which running instances are orphans: neither a primary, a running replica, an interrupted
 * instance before its announced end, nor an old instance inside its switch window.
 */
import { checkAddress } from './address'
import { describe, factsOf, ids, isUp, type Divergence, type Facts } from './facts'
import { checkLaunches } from './launches'
import { checkNotices } from './notices'
import type { D1Agent, D1Snapshot, Ec2Instance, Ec2Snapshot, SoakLog } from './snapshot'
import { checkStatuses } from './statuses'
import { isInside, switchWindows } from './windows'

export type { Divergence, Invariant } from './facts'
export { duplicateLaunches } from './launches'

export interface CheckResult {
  divergences: Divergence[]
  /** Running instances that are neither a primary, a live replica nor an old one in its switch window. */
  orphans: string[]
}

export function checkInvariants(ec2: Ec2Snapshot, d1: D1Snapshot, log: SoakLog): CheckResult {
  const f = factsOf(ec2, d1, log)
  const orphans: string[] = []
  const workloads = [...new Set([...ec2.instances.map((i) => i.workload), ...f.agentOf.keys()])].sort()
  for (const workload of workloads) orphans.push(...checkWorkload(f, workload))
  checkNotices(f)
  checkStatuses(f)
  checkLaunches(f)
  return { divergences: f.found, orphans }
}

/** (a) and (b) for one workload; answers its orphans. */
function checkWorkload(f: Facts, workload: string): string[] {
  const agent = f.agentOf.get(workload)
  const mine = f.ec2.instances.filter((i) => i.workload === workload)
  const running = mine.filter(isUp)
  if (!agent) {
    if (running.some((i) => f.settled(i.launchTime)))
      f.diverge('a', workload, `no-agent:${workload}`, `runs ${ids(running)}`, 'no agent for this workload')
    return []
  }
  if (mine.length === 0) {
    const d1Says = `agent ${workload} (${agent.status}) on ${agent.instanceId ?? 'nothing'}`
    f.diverge('a', workload, `ghost:${workload}`, `no instance is tagged LogicalAgentId=${workload}`, d1Says)
    return []
  }
  if (isInside(switchWindows(agent, workload, f.d1, f.log), f.at)) return []
  checkPrimary(f, workload, agent, running)
  const orphans: string[] = []
  for (const i of running.filter((r) => f.settled(r.launchTime))) {
    const isPrimaryOrReplica = agent.instanceId === i.instanceId || f.runningReplicaIds.has(i.instanceId)
    const isEnding = f.endingInD1.has(i.instanceId)
    if (!isPrimaryOrReplica && !isEnding && !f.activeInD1.has(i.instanceId))
      f.diverge(
        'b',
        workload,
        i.instanceId,
        describe(i),
        `no agent, active instance or running replica is ${i.instanceId}`,
      )
    // An old instance kept on purpose (auto-terminate off, or a wait of 0: "keep it") is no orphan.
    const kept =
      (!agent.autoTerminateEnabled || agent.terminateWaitSeconds === 0) && f.activeInD1.has(i.instanceId)
    if (!isPrimaryOrReplica && !isEnding && !kept) orphans.push(i.instanceId)
  }
  return orphans
}

/**
 * (a): exactly one running instance is neither a replica, an instance EC2 ends at an announced time
 * still ahead, nor a launch D1 cannot know yet; D1's agent names it; EC2 holds the workload's address
 * where D1 says (address.ts).
 */
function checkPrimary(f: Facts, workload: string, agent: D1Agent, running: Ec2Instance[]): void {
  const candidates = running.filter(
    (i) =>
      !f.runningReplicaIds.has(i.instanceId) &&
      !f.endingInD1.has(i.instanceId) &&
      (f.knownToD1.has(i.instanceId) || agent.instanceId === i.instanceId || f.settled(i.launchTime)),
  )
  const replicas = f.liveReplicas
    .filter((r) => r.agentId === agent.id)
    .flatMap((r) => (r.instanceId ? [r.instanceId] : []))
  const d1Says = `agent on ${agent.instanceId ?? 'nothing'}; live replicas: ${replicas.join(', ') || 'none'}`
  const ec2Says = `running: ${running.map((i) => `${i.instanceId}${i.holdsAddress ? ' (holds the address)' : ''}`).join(', ') || 'nothing'}`
  const [primary] = candidates
  if (candidates.length !== 1 || primary!.instanceId !== agent.instanceId)
    f.diverge('a', workload, `${agent.instanceId}>${ids(candidates)}`, ec2Says, d1Says)
  else checkAddress(f, workload, agent, primary!, d1Says)
}
