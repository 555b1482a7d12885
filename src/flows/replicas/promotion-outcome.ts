/**
 * What follows a promotion once EC2 has (or has not) followed it: the `promote_replica` command's end
 * (reported by the agent's Durable Object), the Elastic IP confirmed on the promoted instance, the
 * promoted instance ready. Completes the interruption's failover time (notice received → command
 * completed); a command that failed or that nobody claimed is handed once to the promoted instance's own
 * agent (the old host may have died before the replica ran, or before it claimed the command while the
 * new agent registered late), and when that fails or expires too the switch and the
 * replica carry the reason and a notification says so: the replica stays `promoted`, as its instance is
 * the workload's primary in every record (its agent registers as the primary), but not as a success.
 * A command the agent refused (the instance is not its replica) is undone instead (refused-promotion.ts).
 */
import { and, desc, eq, inArray, isNull } from 'drizzle-orm'
import { promotionDowntimeMs } from '../switch/times'
import type { Database } from '../../db/client'
import { agents, events, replicas, switches, type Agent, type Replica, type Switch } from '../../db/schema'
import type { Env } from '../../env'
import { endedCommand, isRefusedAsNotOwned, type EndedCommand } from '../ended-command'
import { log } from '../../log'
import type { QueuedCommand } from '../../session/types'
import { tellPromotion } from './commands'
import { notifyClient } from '../notifications'
import { recordNoticeAnswer } from '../events'
import { setSwitchCommand, setSwitchError, updateSwitchTimes } from '../switch/store'
import { setReplicaError } from './store'
import { undoRefusedPromotion } from './refused-promotion'

/** A `promote_replica` command that ended, as the agent's Durable Object saw it. */
export type EndedPromotion = EndedCommand

const PROMOTION_TRIGGERS = ['interruption', 'replica_promotion']

/** A `promote_replica` that reached a final state; null for anything else. */
export function endedPromotion(c: QueuedCommand): EndedPromotion | null {
  return c.commandType === 'promote_replica' ? endedCommand(c) : null
}

/** Records the end of a promotion's command; errors are logged (the records stay as they were). */
export async function followPromotionCommand(
  env: Env,
  db: Database,
  ref: { clientId: string; agentId: string },
  ended: EndedPromotion,
): Promise<void> {
  try {
    await recordEnd(env, db, ref, ended)
  } catch (err) {
    log.error({
      job: 'promotion-outcome',
      agent_id: ref.agentId,
      command_id: ended.commandId,
      message: (err as Error).message,
    })
  }
}

async function recordEnd(
  env: Env,
  db: Database,
  ref: { clientId: string; agentId: string },
  ended: EndedPromotion,
): Promise<void> {
  if (ended.status === 'cancelled') return // the agent was deleted
  const replicaId = typeof ended.payload?.replica_id === 'string' ? ended.payload.replica_id : null
  const [agent] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.id, ref.agentId), eq(agents.clientId, ref.clientId)))
    .limit(1)
  if (!agent || !replicaId) return
  const [replica] = await db
    .select()
    .from(replicas)
    .where(and(eq(replicas.id, replicaId), eq(replicas.agentId, agent.id)))
    .limit(1)
  if (replica?.status !== 'promoted' || !replica.instanceId) return
  if (ended.status === 'completed') {
    await completeFailover(db, agent, replica, ended.finishedAt)
    // A retry succeeded after a failure was recorded: the records no longer say it failed.
    if (replica.errorMessage) await clearFailure(db, agent, replica, ended.finishedAt)
    return
  }
  const sw = await promotionSwitch(db, agent, replica)
  if (isRefusedAsNotOwned(ended))
    return undoRefusedPromotion(db, agent, { ...replica, instanceId: replica.instanceId }, sw, ended)
  const reason = ended.status === 'expired' ? 'nobody claimed it' : (ended.message ?? 'failed')
  // The old primary could not finish (it gave up at its interruption, or died, claiming it or not):
  // the promoted instance's own agent can, once it registers as the primary.
  if (
    (ended.status === 'failed' || ended.status === 'expired') &&
    ended.claimedBy !== replica.instanceId &&
    ended.instanceId !== replica.instanceId &&
    agent.instanceId === replica.instanceId
  ) {
    const commandId = await tellPromotion(env, agent, replica, {
      newInstanceId: replica.instanceId,
      oldInstanceId: str(ended.payload?.old_instance_id),
      oldPublicIp: str(ended.payload?.old_public_ip),
      notAfter: null,
      priority: ended.priority,
      claimableBy: replica.instanceId,
    })
    if (commandId) {
      if (sw) await setSwitchCommand(db, sw.id, commandId)
      return
    }
  }
  await markFailed(
    db,
    agent,
    replica,
    sw,
    `promotion command ${ended.commandId} ${ended.status}: ${reason}`,
    ended.finishedAt,
  )
}

/** The interruption's failover ends: notice received → the promotion's command completed. */
async function completeFailover(db: Database, agent: Agent, replica: Replica, finishedAt: number) {
  const [notice] = await db
    .select()
    .from(events)
    .where(
      and(
        eq(events.agentId, agent.id),
        eq(events.kind, 'termination_notice'),
        eq(events.replicaId, replica.id),
        isNull(events.failoverMs),
      ),
    )
    .limit(1)
  if (notice) {
    await recordNoticeAnswer(db, notice.id, { failoverMs: Math.max(0, finishedAt - notice.receivedAt) })
  }
}

async function clearFailure(db: Database, agent: Agent, replica: Replica, now: number) {
  const sw = await promotionSwitch(db, agent, replica)
  await db.batch([setReplicaError(db, replica, null, now), ...(sw ? [setSwitchError(db, sw.id, null)] : [])])
}

async function markFailed(
  db: Database,
  agent: Agent,
  replica: Replica,
  sw: Switch | null,
  reason: string,
  now: number,
): Promise<void> {
  await db.batch([
    setReplicaError(db, replica, reason, now),
    ...(sw ? [setSwitchError(db, sw.id, reason)] : []),
    notifyClient(db, {
      clientId: agent.clientId,
      agentId: agent.id,
      kind: 'switch_failed',
      severity: 'error',
      message: `${agent.logicalAgentId}: EC2 did not follow the promotion of ${replica.instanceId} (${reason}); its Elastic IP may still point at ${sw?.oldInstanceId ?? 'the old instance'}`,
      createdAt: now,
    }),
  ])
}

/** The switch that recorded the replica's promotion (the newest one onto its instance). */
export async function promotionSwitch(
  db: Database,
  agent: Agent,
  replica: Pick<Replica, 'instanceId'>,
): Promise<Switch | null> {
  if (!replica.instanceId) return null
  const [row] = await db
    .select()
    .from(switches)
    .where(
      and(
        eq(switches.clientId, agent.clientId),
        eq(switches.agentId, agent.id),
        eq(switches.newInstanceId, replica.instanceId),
        inArray(switches.trigger, PROMOTION_TRIGGERS),
      ),
    )
    .orderBy(desc(switches.receivedAt))
    .limit(1)
  return row ?? null
}

/**
 * Server-seen moments after the promotion, on its switch: the Elastic IP confirmed on the promoted
 * instance (`trafficSwitchedAt`) or the instance ready (`readyAt`); each is kept once and the
 * downtime and duration are recomputed from them.
 */
export async function recordPromotionMoment(
  db: Database,
  agent: Agent,
  replica: Replica,
  moment: 'trafficSwitchedAt' | 'readyAt',
  now: number,
): Promise<boolean> {
  if (replica.status !== 'promoted' || !replica.instanceId) return false
  const sw = await promotionSwitch(db, agent, replica)
  if (!sw || sw[moment] !== null) return false
  const times = {
    oldEndedAt: sw.oldTerminatedAt,
    trafficSwitchedAt: moment === 'trafficSwitchedAt' ? now : sw.trafficSwitchedAt,
    readyAt: moment === 'readyAt' ? now : sw.readyAt,
  }
  const served = times.trafficSwitchedAt ?? times.readyAt
  await updateSwitchTimes(db, sw.id, {
    [moment]: now,
    downtimeMs: promotionDowntimeMs(times),
    durationMs:
      sw.initiatedAt === null || served === null ? sw.durationMs : Math.max(0, served - sw.initiatedAt),
  })
  return true
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}
