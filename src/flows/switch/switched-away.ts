/**
 * The end of a switch's old instance when its own agent terminates it. That agent says so before it
 * calls TerminateInstances (`old_instance_terminating_at`): the row turns `terminating` (no announced
 * end) and the workload's instance, which survives, is told to confirm the end through EC2
 * (`terminate_instance`: it finds the instance gone, or ends it). Its completion ends the row (its
 * failure is notified: the row stays `terminating`, EC2 may still run the instance). The old
 * agent's own confirmation, when it outlives the call, ends it first; either way, once: a report queued
 * by a host that is ending may never leave it.
 * Its writes of `instances` and `notifications` are flows/instances.ts's and flows/notifications.ts's.
 */
import { and, eq } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { instances, type Agent } from '../../db/schema'
import type { Env } from '../../env'
import { followAgent } from '../ledger/follow'
import { log } from '../../log'
import { PRIORITY } from '../../protocol'
import type { QueuedCommand } from '../../session/types'
import { endedCommand } from '../ended-command'
import { tellAgent, understands } from '../tell'
import { endConfirmedInstance, notEndedYet } from '../instances'
import { notifyClient } from '../notifications'

/** Tells the workload's instance to confirm (or make) the old instance's end; null: it can't be told. */
export async function tellConfirmEnd(
  env: Env,
  agent: Agent,
  runnerInstanceId: string,
  oldInstanceId: string,
): Promise<string | null> {
  if (runnerInstanceId === oldInstanceId || !understands(agent, 'terminate_instance')) return null
  const result = await tellAgent(env, agent, {
    instanceId: runnerInstanceId,
    commandType: 'terminate_instance',
    priority: PRIORITY.manual,
    payload: { target_instance_id: oldInstanceId, reason: 'confirm the end of the switched-away instance' },
    source: 'system',
    dedupeKey: `terminate_instance:${oldInstanceId}`,
  })
  return result.ok || result.reason === 'duplicate' ? result.commandId : null
}

/** A `terminate_instance` that ended: the instance, when, and whether it is gone (else the reason). */
export interface InstanceEndOutcome {
  instanceId: string
  /** Server epoch ms. */
  at: number
  ended: boolean
  message: string | null
}

export function instanceEndOutcome(c: QueuedCommand): InstanceEndOutcome | null {
  const target = c.payload?.target_instance_id
  const ended = c.commandType === 'terminate_instance' ? endedCommand(c) : null
  // Cancelled: the agent was deleted, nothing to record.
  if (!ended || ended.status === 'cancelled' || typeof target !== 'string') return null
  return {
    instanceId: target,
    at: ended.finishedAt,
    ended: ended.status === 'completed',
    message: ended.message,
  }
}

/**
 * Ends the instance a completed `terminate_instance` confirmed, then the ledger; when it failed (or
 * nobody ran it) and the row still waits for that confirmation, a notification names the instance to
 * check by hand (EC2 may still run and bill it). Errors are logged.
 */
export async function followInstanceEnd(
  db: Database,
  owner: { clientId: string; agentId: string },
  outcome: InstanceEndOutcome,
): Promise<void> {
  const row = and(
    eq(instances.clientId, owner.clientId),
    eq(instances.agentId, owner.agentId),
    eq(instances.instanceId, outcome.instanceId),
    notEndedYet,
  )
  try {
    if (outcome.ended) {
      await endConfirmedInstance(db, owner, outcome.instanceId, outcome.at)
      await followAgent(db, owner.clientId, owner.agentId, outcome.at)
      return
    }
    const [waiting] = await db
      .select({ id: instances.id })
      .from(instances)
      .where(and(row, eq(instances.status, 'terminating')))
      .limit(1)
    if (!waiting) return
    await notifyClient(db, {
      clientId: owner.clientId,
      agentId: owner.agentId,
      kind: 'instance_end_unconfirmed',
      severity: 'error',
      message: `${outcome.instanceId} was being terminated after a switch, but its end could not be confirmed (${outcome.message ?? 'nobody confirmed it'}): check it in EC2, it may still run`,
      createdAt: outcome.at,
    })
  } catch (err) {
    log.error({
      job: 'instance-end',
      agent_id: owner.agentId,
      instance_id: outcome.instanceId,
      message: (err as Error).message,
    })
  }
}
