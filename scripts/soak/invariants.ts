/**
 * The invariants between EC2 (the ground truth) and D1 at one moment, pure over a snapshot:
 *   a  outside a switch window, each workload has exactly one running primary, D1 names it, and it holds
 *      the workload's Elastic IP; every agent of D1 is a workload of EC2
 *   b  no running instance is untracked; no live replica points at a dead (or no) instance
 *   c  every notice led to exactly one interruption switch, or (the workload did not move) a recorded,
 *      notified failure
 *   d  D1's instance (and replica) status matches EC2
 *   f  no command launched twice
 * (e, the ledger against the bill, is ledger.ts.) Also which running instances are orphans: neither a
 * primary, a live replica nor an old instance inside its terminate wait.
 */
import type { D1Agent, D1Snapshot, Ec2Instance, Ec2Snapshot, SoakLog } from './snapshot'
import { GRACE_MS, heardAt, isInside, switchWindows } from './windows'

export type Invariant = 'a' | 'b' | 'c' | 'd' | 'e' | 'f'

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

const MINUTE = 60_000
/** A notice is judged this long after its termination time. */
export const NOTICE_SETTLE_MS = 10 * MINUTE
/** A replica still without an instance after this long is stuck. */
export const STUCK_LAUNCH_MS = 30 * MINUTE

const LIVE_REPLICA = new Set(['launching', 'syncing', 'ready'])
const isUp = (i: Ec2Instance) => i.state === 'pending' || i.state === 'running'
const isGone = (i: Ec2Instance) => i.state === 'shutting-down' || i.state === 'terminated'

export interface CheckResult {
  divergences: Divergence[]
  /** Running instances that are neither a primary, a live replica nor an old one in its terminate wait. */
  orphans: string[]
}

export function checkInvariants(ec2: Ec2Snapshot, d1: D1Snapshot, log: SoakLog): CheckResult {
  const at = ec2.at
  const found: Divergence[] = []
  const diverge = (
    invariant: Invariant,
    workload: string,
    subject: string,
    ec2Says: string,
    d1Says: string,
  ) => found.push({ at, invariant, workload, subject, ec2: ec2Says, d1: d1Says })
  const agentOf = new Map(d1.agents.filter((a) => a.status !== 'deleted').map((a) => [a.logicalAgentId, a]))
  const workloads = [...new Set([...ec2.instances.map((i) => i.workload), ...agentOf.keys()])].sort()
  const liveReplicas = d1.replicas.filter((r) => LIVE_REPLICA.has(r.status))
  const liveReplicaIds = new Set(liveReplicas.flatMap((r) => (r.instanceId ? [r.instanceId] : [])))
  const activeInD1 = new Set(d1.instances.filter((i) => i.status === 'active').map((i) => i.instanceId))
  const knownToD1 = new Set([...d1.instances.map((i) => i.instanceId), ...liveReplicaIds])
  const byId = new Map(ec2.instances.map((i) => [i.instanceId, i]))
  /** A change in EC2 at `when` that D1 has had GRACE_MS to hear of. */
  const settled = (when: number) => heardAt(log, when) + GRACE_MS <= at
  const orphans: string[] = []

  for (const workload of workloads) {
    const agent = agentOf.get(workload)
    const windows = switchWindows(agent, workload, d1, log)
    const inWindow = isInside(windows, at)
    const mine = ec2.instances.filter((i) => i.workload === workload)
    const running = mine.filter(isUp)
    if (!mine.length && agent) {
      diverge(
        'a',
        workload,
        `ghost:${workload}`,
        `no instance is tagged LogicalAgentId=${workload}`,
        `agent ${workload} (${agent.status}) on ${agent.instanceId ?? 'nothing'}`,
      )
      continue
    }
    if (!agent) {
      if (running.some((i) => settled(i.launchTime)))
        diverge('a', workload, `no-agent:${workload}`, `runs ${ids(running)}`, 'no agent for this workload')
      continue
    }
    if (!inWindow) checkPrimary(workload, agent, running)
    for (const i of running) {
      const tracked =
        agent.instanceId === i.instanceId || activeInD1.has(i.instanceId) || liveReplicaIds.has(i.instanceId)
      if (!tracked && !inWindow && settled(i.launchTime))
        diverge(
          'b',
          workload,
          i.instanceId,
          describe(i),
          `no agent, active instance or live replica is ${i.instanceId}`,
        )
      if (!inWindow && settled(i.launchTime) && isOrphan(i, agent)) orphans.push(i.instanceId)
    }
  }

  function checkPrimary(workload: string, agent: D1Agent, running: Ec2Instance[]) {
    // A launch D1 has not had time to hear of is neither a primary nor a replica yet.
    const candidates = running.filter(
      (i) =>
        !liveReplicaIds.has(i.instanceId) &&
        (knownToD1.has(i.instanceId) || agent.instanceId === i.instanceId || settled(i.launchTime)),
    )
    const [primary] = candidates
    const replicas = liveReplicas
      .filter((r) => r.agentId === agent.id)
      .flatMap((r) => (r.instanceId ? [r.instanceId] : []))
    const d1Says = `agent on ${agent.instanceId ?? 'nothing'}; live replicas: ${replicas.join(', ') || 'none'}`
    const ec2Says = `running: ${running.map((i) => `${i.instanceId}${i.holdsAddress ? ' (holds the address)' : ''}`).join(', ') || 'nothing'}`
    const subject = `${agent.instanceId}>${ids(candidates)}`
    if (candidates.length !== 1 || primary!.instanceId !== agent.instanceId)
      diverge('a', workload, subject, ec2Says, d1Says)
    else if (!primary!.holdsAddress)
      diverge(
        'a',
        workload,
        `address:${primary!.instanceId}`,
        `${ec2Says}; the Elastic IP is elsewhere`,
        d1Says,
      )
  }

  function isOrphan(i: Ec2Instance, agent: D1Agent): boolean {
    if (agent.instanceId === i.instanceId || liveReplicaIds.has(i.instanceId)) return false
    // An old instance kept on purpose (auto-terminate off, or a wait of 0: "keep it").
    if ((!agent.autoTerminateEnabled || agent.terminateWaitSeconds === 0) && activeInD1.has(i.instanceId))
      return false
    return true
  }

  checkNotices()
  checkStatuses()
  checkLaunches()
  return { divergences: found, orphans }

  function checkNotices() {
    for (const n of log.notices) {
      if (n.terminationAt + NOTICE_SETTLE_MS > at) continue
      const agent = agentOf.get(n.workload)
      const subject = `notice:${n.instanceId}@${n.terminationAt}`
      const switches = d1.switches.filter(
        (s) => s.agentId === agent?.id && s.trigger === 'interruption' && s.oldInstanceId === n.instanceId,
      )
      const moved = ec2.instances.filter(
        (i) => i.workload === n.workload && i.instanceId !== n.instanceId && isUp(i),
      )
      const notified = d1.notifications.some(
        (x) => x.agentId === agent?.id && x.severity === 'error' && x.createdAt >= n.sentAt,
      )
      const noticeSays = `notice to ${n.instanceId} at ${iso(n.sentAt)}`
      if (switches.length > 1)
        diverge(
          'c',
          n.workload,
          subject,
          noticeSays,
          `${switches.length} interruption switches: ${switches.map((s) => `${s.oldInstanceId} → ${s.newInstanceId}`).join('; ')}`,
        )
      else if (switches.length === 0 && moved.length > 0)
        diverge(
          'c',
          n.workload,
          subject,
          `${noticeSays}; the workload moved to ${ids(moved)}`,
          'no interruption switch recorded',
        )
      else if (switches.length === 0 && !notified)
        diverge(
          'c',
          n.workload,
          subject,
          `${noticeSays}; the workload did not move`,
          'no switch and no failure notified',
        )
    }
  }

  function checkStatuses() {
    const workloadOf = new Map(d1.agents.map((a) => [a.id, a.logicalAgentId]))
    for (const row of d1.instances) {
      const workload = workloadOf.get(row.agentId) ?? '?'
      const e = byId.get(row.instanceId)
      if (!e) {
        diverge('d', workload, row.instanceId, 'no such instance', `instance ${row.instanceId} ${row.status}`)
      } else if (row.status === 'active' && isGone(e) && settled(e.stateSince)) {
        diverge('d', workload, row.instanceId, `${e.state} since ${iso(e.stateSince)}`, 'active')
      } else if (
        row.status === 'terminated' &&
        isUp(e) &&
        e.terminateAt === null &&
        settled(row.terminatedAt ?? row.createdAt)
      ) {
        diverge('d', workload, row.instanceId, `${e.state}`, `terminated at ${iso(row.terminatedAt)}`)
      }
    }
    for (const r of d1.replicas) {
      const workload = workloadOf.get(r.agentId) ?? '?'
      const e = r.instanceId ? byId.get(r.instanceId) : undefined
      if (LIVE_REPLICA.has(r.status)) {
        if (!r.instanceId) {
          if (r.createdAt + STUCK_LAUNCH_MS <= at)
            diverge(
              'b',
              workload,
              `replica:${r.id}`,
              'no instance launched for it',
              `replica ${r.id} ${r.status} since ${iso(r.createdAt)}`,
            )
        } else if (!e)
          diverge(
            'b',
            workload,
            `replica:${r.id}`,
            `no instance ${r.instanceId}`,
            `replica ${r.id} ${r.status} on ${r.instanceId}`,
          )
        else if (isGone(e) && settled(e.stateSince))
          diverge(
            'b',
            workload,
            `replica:${r.id}`,
            `${e.instanceId} ${e.state} since ${iso(e.stateSince)}`,
            `replica ${r.id} ${r.status}`,
          )
      } else if (
        (r.status === 'terminated' || r.status === 'failed') &&
        e &&
        isUp(e) &&
        settled(e.launchTime)
      ) {
        diverge('d', workload, `replica:${r.id}`, `${e.instanceId} ${e.state}`, `replica ${r.id} ${r.status}`)
      }
    }
  }

  function checkLaunches() {
    const launches = new Map<string, Ec2Instance[]>()
    for (const i of ec2.instances)
      if (i.launchKey) launches.set(i.launchKey, [...(launches.get(i.launchKey) ?? []), i])
    for (const [key, instances] of launches) {
      const reservations = new Set(instances.map((i) => i.reservationId))
      if (reservations.size > 1)
        diverge(
          'f',
          instances[0]!.workload,
          `launch:${key}`,
          `${reservations.size} launches for ${key}: ${ids(instances)}`,
          '',
        )
    }
  }
}

/** Launches beyond the first for one command (the sum over every launch key). */
export function duplicateLaunches(ec2: Ec2Snapshot): number {
  const reservations = new Map<string, Set<string>>()
  for (const i of ec2.instances) {
    if (!i.launchKey) continue
    reservations.set(i.launchKey, (reservations.get(i.launchKey) ?? new Set()).add(i.reservationId))
  }
  return [...reservations.values()].reduce((sum, r) => sum + r.size - 1, 0)
}

const ids = (instances: Ec2Instance[]) => instances.map((i) => i.instanceId).join(', ') || 'nothing'
const iso = (ms: number | null) => (ms === null ? '?' : new Date(ms).toISOString())
const describe = (i: Ec2Instance) =>
  `${i.instanceId} ${i.state} since ${iso(i.stateSince)} (${i.lifecycle} ${i.az}${i.replicaTag ? `, replica ${i.replicaTag}` : ''})`
