/**
 * Instance facts the control plane learns after registration: the Elastic IP moved onto an instance, and
 * the end of the instances whose announced end has come (db/queries/instance-status.ts says when).
 */
import { and, eq, lte } from 'drizzle-orm'
import type { Database } from '../db/client'
import { instances, type Agent } from '../db/schema'

/**
 * The workload's Elastic IP is on this instance now (a switch or a promotion moved it there, after the
 * instance registered with its own IP): a later promotion names it as the address to follow.
 */
export async function recordPublicIp(
  db: Database,
  agent: Agent,
  instanceId: string,
  publicIp: string,
  now: number,
): Promise<void> {
  await db
    .update(instances)
    .set({ publicIp, updatedAt: now })
    .where(
      and(
        eq(instances.clientId, agent.clientId),
        eq(instances.agentId, agent.id),
        eq(instances.instanceId, instanceId),
      ),
    )
}

/** Writes `terminated` on every terminating row whose time has come; answers how many. */
export async function settleEndedInstances(db: Database, now: number): Promise<{ settled: number }> {
  const rows = await db
    .update(instances)
    .set({ status: 'terminated', updatedAt: now })
    .where(and(eq(instances.status, 'terminating'), lte(instances.terminatedAt, now)))
    .returning({ id: instances.id })
  return { settled: rows.length }
}
