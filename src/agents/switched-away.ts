/**
 * The end of a switch's old instance when its own agent terminates it. That agent says so before it
 * calls TerminateInstances (`old_instance_terminating_at`): the row turns `terminating` (no announced
 * end) and the workload's instance, which survives, is told to confirm the end through EC2
 * (`terminate_instance`: it finds the instance gone, or ends it). Its completion ends the row. The old
 * agent's own confirmation, when it outlives the call, ends it first; either way, once. Before this, the
 * end hung on a report queued by a host that was ending (soak seed 1, 24 h: D1 kept it `active`).
 * Writes `instances`.
 */
import { and, eq, isNull, or } from 'drizzle-orm'
import type { Database } from '../db/client'
import { instances, type Agent } from '../db/schema'
import type { Env } from '../env'
import { followAgent } from '../ledger/follow'
import { PRIORITY } from '../protocol'
import type { QueuedCommand } from '../session/queue'
import { tellAgent, understands } from './tell'

/** Rows an end may still be written on: running, or terminating without an announced end. */
export const notEndedYet = or(
  eq(instances.status, 'active'),
  and(eq(instances.status, 'terminating'), isNull(instances.terminatedAt)),
)

/** The old instance is being terminated by its own agent: `terminating` until someone confirms it. */
export function markTerminating(db: Database, agent: Agent, instanceId: string, now: number) {
  return db
    .update(instances)
    .set({ status: 'terminating', updatedAt: now })
    .where(
      and(
        eq(instances.clientId, agent.clientId),
        eq(instances.agentId, agent.id),
        eq(instances.instanceId, instanceId),
        eq(instances.status, 'active'),
      ),
    )
}

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

/** A `terminate_instance` that completed: the instance it ended (or found ended), and when. */
export function confirmedEnd(c: QueuedCommand): { instanceId: string; at: number } | null {
  if (c.commandType !== 'terminate_instance' || c.status !== 'completed' || c.finishedAt === null) return null
  const target = c.payload?.target_instance_id
  return typeof target === 'string' ? { instanceId: target, at: c.finishedAt } : null
}

/** Ends the instance a completed `terminate_instance` confirmed, then the ledger; errors are logged. */
export async function recordConfirmedEnd(
  db: Database,
  owner: { clientId: string; agentId: string },
  ended: { instanceId: string; at: number },
): Promise<void> {
  try {
    await db
      .update(instances)
      .set({ status: 'terminated', terminatedAt: ended.at, updatedAt: ended.at })
      .where(
        and(
          eq(instances.clientId, owner.clientId),
          eq(instances.agentId, owner.agentId),
          eq(instances.instanceId, ended.instanceId),
          notEndedYet,
        ),
      )
    await followAgent(db, owner.clientId, owner.agentId, ended.at)
  } catch (err) {
    console.error(
      JSON.stringify({
        level: 'error',
        job: 'confirmed-end',
        agent_id: owner.agentId,
        instance_id: ended.instanceId,
        message: (err as Error).message,
      }),
    )
  }
}
