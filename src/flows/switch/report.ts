/**
 * Recording a switch the agent reports: the switch row (prices, agent-clock times, downtime; a stateful
 * agent's steps, data loss bound and address change: stateful.ts), the agent
 * moved to its new instance, the old instance ended when the agent says it terminated it (`terminating`
 * when it says it is about to: switched-away.ts).
 * Idempotent: a repeated report (same command, or same old → new instances) only adds times that were
 * missing (a termination confirmation, an Elastic IP moved, a stateful record the first one lacked).
 */
import { and, eq } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { events, switches, type Agent, type MODES, type Switch } from '../../db/schema'
import { newId } from '../../ids'
import { paidPrice } from '../../prices/paid'
import { poolIdOf } from '../../prices/pool-id'
import { MAX_NOTICE_MS } from '../replicas/notice'
import {
  endSwitchedAwayInstance,
  markTerminating,
  recordPublicIp,
  upsertTakenOverInstance,
} from '../instances'
import { moveAgentTo } from '../agents'
import { downtimeMs, durationMs } from './times'
import { notifyClient } from '../notifications'
import { recordEvent } from '../events'
import { recordSwitch, setSwitchStateful, updateSwitchTimes } from './store'
import { holdsOnlyDrainSteps, statefulColumns, withHeldSteps, type StatefulRecord } from './stateful'

type Mode = (typeof MODES)[number]

export interface SwitchSide {
  instanceId: string | null
  instanceType: string | null
  region: string | null
  az: string | null
  amiId: string | null
  mode: Mode
  poolId: string | null
}

export interface SwitchReport {
  commandId: string | null
  trigger: string
  old: SwitchSide | null
  new: SwitchSide & { instanceId: string }
  /** The Elastic IP that followed onto the new instance: what a later promotion moves on. */
  newPublicIp: string | null
  /** The old instance's agent is about to terminate its own host (5.x, `old_instance_terminating_at`). */
  oldTerminating: boolean
  snapshotUsed: boolean | null
  amiId: string | null
  prices: { onDemand: number | null; oldSpot: number | null; newSpot: number | null }
  /** A stateful agent's steps, data loss bound and address change; null for a stateless one. */
  stateful: StatefulRecord | null
  /** Agent-clock epoch ms. */
  times: {
    initiatedAt: number | null
    amiCreatedAt: number | null
    launchedAt: number | null
    readyAt: number | null
    trafficSwitchedAt: number | null
    oldTerminatedAt: number | null
  }
}

/**
 * Stores the report received at server time `now`; returns the switch id and whether it was new.
 * `shared`: an interruption it records may feed other tenants (auth/principal.ts feedsOtherTenants).
 */
export async function recordSwitchReport(
  db: Database,
  agent: Agent,
  report: SwitchReport,
  shared: boolean,
  now: number,
): Promise<{ switchId: string; created: boolean }> {
  const previous = await findPrevious(db, agent, report)
  const terminating = terminatingOld(report)
  if (previous.row) {
    await completeSwitch(db, agent, previous.row, report, now)
    if (terminating) await markTerminating(db, agent, terminating, now)
    if (report.newPublicIp) await recordPublicIp(db, agent, report.new.instanceId, report.newPublicIp, now)
    return { switchId: previous.row.id, created: false }
  }
  const oldSide = report.old
  const newSide = report.new
  const newPoolId = poolOf(newSide)
  const switchId = newId('swi')
  const statements = [
    recordSwitch(db, {
      id: switchId,
      clientId: agent.clientId,
      agentId: agent.id,
      commandId: previous.commandIdFree ? report.commandId : null,
      trigger: report.trigger,
      oldInstanceId: oldSide?.instanceId ?? null,
      newInstanceId: newSide.instanceId,
      oldMode: oldSide?.mode ?? null,
      newMode: newSide.mode,
      oldPoolId: oldSide ? poolOf(oldSide) : null,
      newPoolId,
      instanceType: newSide.instanceType ?? oldSide?.instanceType ?? null,
      oldInstanceType: oldSide?.instanceType ?? null,
      region: newSide.region ?? oldSide?.region ?? null,
      onDemandPrice: report.prices.onDemand,
      oldPrice: paidPrice(oldSide?.mode, report.prices.oldSpot, report.prices.onDemand),
      newPrice: paidPrice(newSide.mode, report.prices.newSpot, report.prices.onDemand),
      amiId: report.amiId ?? newSide.amiId,
      snapshotUsed: report.snapshotUsed,
      ...report.times,
      ...statefulColumns(report.stateful),
      // A stateful agent measures its downtime itself (the workload stopped → serving again).
      downtimeMs: report.stateful?.detail.downtimeMs ?? downtimeMs(report.times),
      durationMs: durationMs(report.times),
      receivedAt: now,
      oldTerminationConfirmedAt: report.times.oldTerminatedAt !== null ? now : null,
    }),
    upsertTakenOverInstance(
      db,
      agent.clientId,
      newSide.instanceId,
      {
        ...(report.newPublicIp ? { publicIp: report.newPublicIp } : {}),
        agentId: agent.id,
        instanceType: newSide.instanceType,
        region: newSide.region,
        az: newSide.az,
        amiId: newSide.amiId,
        mode: newSide.mode,
        poolId: newPoolId,
      },
      now,
    ),
    moveAgentTo(db, agent.id, newSide.instanceId, now),
    notifyClient(db, switchNotification(agent, report, now)),
  ] as const
  const oldInstanceId = oldSide?.instanceId
  const ending =
    oldInstanceId && oldInstanceId !== newSide.instanceId && report.times.oldTerminatedAt !== null
      ? [
          endSwitchedAwayInstance(
            db,
            agent,
            oldInstanceId,
            endOfOld(report.trigger, report.times.oldTerminatedAt, now),
            now,
          ),
        ]
      : []
  const marking = terminating ? [markTerminating(db, agent, terminating, now)] : []
  const notice = (await unheardInterruption(db, agent, report))
    ? [interruptionEvent(db, agent, report, shared, now)]
    : []
  await db.batch([...statements, ...ending, ...marking, ...notice])
  return { switchId, created: true }
}

/** The old instance its agent says it is terminating, and nobody confirmed ended yet; else null. */
export function terminatingOld(report: SwitchReport): string | null {
  const old = report.old?.instanceId
  if (!report.oldTerminating || report.times.oldTerminatedAt !== null) return null
  return old && old !== report.new.instanceId ? old : null
}

/** What the client is told: a switch done, or an interruption the agent answered with its own launch. */
function switchNotification(agent: Agent, report: SwitchReport, now: number) {
  const from = `${report.old?.instanceId ?? '?'} (${report.old?.mode ?? '?'})`
  const to = `${report.new.instanceId} (${report.new.mode})`
  const interrupted = report.trigger === 'interruption'
  return {
    clientId: agent.clientId,
    agentId: agent.id,
    kind: interrupted ? 'interruption' : 'switch_completed',
    severity: interrupted ? ('warning' as const) : ('success' as const),
    message: interrupted
      ? `${agent.logicalAgentId}: spot interruption of ${from}; the agent launched ${to} on its own and moved the workload there`
      : `${agent.logicalAgentId}: switched ${from} → ${to}`,
    createdAt: now,
  }
}

/**
 * An agent that launched its own replacement during a notice the control plane never heard (it was
 * unreachable) reports it as an `interruption` switch: the notice still is an interruption event of
 * the old pool, the engine's risk data (product.md).
 */
async function unheardInterruption(db: Database, agent: Agent, report: SwitchReport): Promise<boolean> {
  const old = report.old
  if (report.trigger !== 'interruption' || old?.mode !== 'spot' || !old.instanceId) return false
  const [heard] = await db
    .select({ id: events.id })
    .from(events)
    .where(
      and(
        eq(events.agentId, agent.id),
        eq(events.instanceId, old.instanceId),
        eq(events.kind, 'termination_notice'),
      ),
    )
    .limit(1)
  return !heard
}

function interruptionEvent(db: Database, agent: Agent, report: SwitchReport, shared: boolean, now: number) {
  const old = report.old!
  return recordEvent(db, {
    clientId: agent.clientId,
    agentId: agent.id,
    instanceId: old.instanceId,
    poolId: poolOf(old),
    kind: 'termination_notice',
    terminationTime: report.times.oldTerminatedAt,
    detectedAt: report.times.initiatedAt,
    receivedAt: now,
    action: 'agent_emergency_launch',
    newInstanceId: report.new.instanceId,
    shared,
  })
}

/**
 * The agent repeats its report once it knows more: the old instance's termination confirmed (after the
 * wait), or an emergency replacement's Elastic IP moved (`traffic_switched_at`). Times still missing on
 * the switch are filled in (and its durations recomputed); the old instance ends when its termination
 * is confirmed. A further repeat changes nothing.
 */
async function completeSwitch(
  db: Database,
  agent: Agent,
  row: Switch,
  report: SwitchReport,
  now: number,
): Promise<void> {
  const known = {
    initiatedAt: row.initiatedAt,
    readyAt: row.readyAt,
    trafficSwitchedAt: row.trafficSwitchedAt,
    oldTerminatedAt: row.oldTerminatedAt,
  }
  const times = {
    initiatedAt: known.initiatedAt ?? report.times.initiatedAt,
    readyAt: known.readyAt ?? report.times.readyAt,
    trafficSwitchedAt: known.trafficSwitchedAt ?? report.times.trafficSwitchedAt,
    oldTerminatedAt: known.oldTerminatedAt ?? report.times.oldTerminatedAt,
  }
  const terminationConfirmed = row.oldTerminationConfirmedAt === null && times.oldTerminatedAt !== null
  const statefulLearnt = report.stateful !== null && (row.statefulDetail === null || holdsOnlyDrainSteps(row))
  if (
    !terminationConfirmed &&
    !statefulLearnt &&
    (Object.keys(times) as (keyof typeof times)[]).every((k) => times[k] === known[k])
  )
    return
  const measured = row.statefulDetail?.downtimeMs ?? report.stateful?.detail.downtimeMs ?? null
  const update = updateSwitchTimes(db, row.id, {
    ...times,
    downtimeMs: measured ?? downtimeMs(times),
    durationMs: durationMs(times),
    oldTerminationConfirmedAt: terminationConfirmed ? now : row.oldTerminationConfirmedAt,
  })
  const learnt =
    statefulLearnt && report.stateful
      ? [setSwitchStateful(db, row.id, statefulColumns(withHeldSteps(report.stateful, row.statefulDetail)))]
      : []
  const ending =
    terminationConfirmed && row.oldInstanceId && row.oldInstanceId !== row.newInstanceId
      ? [
          endSwitchedAwayInstance(
            db,
            agent,
            row.oldInstanceId,
            endOfOld(row.trigger, times.oldTerminatedAt, now),
            now,
          ),
        ]
      : []
  await db.batch([update, ...learnt, ...ending])
}

/**
 * When the old instance ends, in server time: its confirmation's receipt, except for an interruption,
 * whose reported end is AWS's notice time (IMDS's clock, not the agent's): the report may arrive long
 * after it (the control plane was unreachable), and the ledger must not bill the gap; or before it,
 * and the instance runs (`terminating`) until then.
 */
function endOfOld(trigger: string, reportedEnd: number | null, now: number): number {
  return trigger === 'interruption' && reportedEnd !== null ? Math.min(now + MAX_NOTICE_MS, reportedEnd) : now
}

/** An earlier record of the same switch, and whether the report's command id may be stored. */
async function findPrevious(db: Database, agent: Agent, report: SwitchReport) {
  if (report.commandId) {
    const [byCommand] = await db
      .select()
      .from(switches)
      .where(eq(switches.commandId, report.commandId))
      .limit(1)
    if (byCommand?.agentId === agent.id) return { row: byCommand, commandIdFree: false }
    // Another agent's command id is not this agent's to claim: record the switch without it.
    if (byCommand) return { row: null, commandIdFree: false }
  }
  const [same] = await db
    .select()
    .from(switches)
    .where(
      and(
        eq(switches.agentId, agent.id),
        eq(switches.newInstanceId, report.new.instanceId),
        report.old?.instanceId ? eq(switches.oldInstanceId, report.old.instanceId) : undefined,
      ),
    )
    .limit(1)
  return { row: same ?? null, commandIdFree: true }
}

/** The pool of a spot side: as reported, else from its type and AZ. */
function poolOf(side: SwitchSide): string | null {
  if (side.mode !== 'spot') return null
  return side.poolId ?? (side.instanceType && side.az ? poolIdOf(side.instanceType, side.az) : null)
}
