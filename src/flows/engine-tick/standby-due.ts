/**
 * Which agents of a page the 5-minute run hands to `maintainStandby` (failover/standby.ts), read in two
 * queries for the page. `maintainStandby` changes nothing for an agent without manual replica mode,
 * without an active replica (nothing to sweep, expire or end) and without a notice waiting for a
 * replica (nothing to settle): the rest of a fleet, most agents, costs no per-agent reads. The set is
 * wider than needed (any recent waiting notice of the agent, whatever its instance), never narrower.
 */
import { and, eq, gte, inArray } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { events, replicas, type Agent } from '../../db/schema'
import { AWAITING_REPLICA, OUTSTANDING_FOR_MS } from '../replicas/notice'
import { ACTIVE_REPLICA_STATUSES } from '../replicas/states'

/** Agents per call: their ids and a few more parameters stay within D1's 100. */
export const STANDBY_CHUNK = 80

/** Ids of the agents (of one client, at most STANDBY_CHUNK) whose replicas may need work now. */
export async function standbyDue(
  db: Database,
  clientId: string,
  agents: readonly Agent[],
  now: number,
): Promise<Set<string>> {
  if (agents.length > STANDBY_CHUNK) throw new Error(`at most ${STANDBY_CHUNK} agents per read`)
  const due = new Set(agents.filter((a) => a.manualReplicaEnabled).map((a) => a.id))
  const others = agents.filter((a) => !due.has(a.id)).map((a) => a.id)
  if (others.length === 0) return due
  const [live, waiting] = await Promise.all([
    db
      .selectDistinct({ agentId: replicas.agentId })
      .from(replicas)
      .where(
        and(
          eq(replicas.clientId, clientId),
          inArray(replicas.agentId, others),
          inArray(replicas.status, [...ACTIVE_REPLICA_STATUSES]),
        ),
      ),
    db
      .selectDistinct({ agentId: events.agentId })
      .from(events)
      .where(
        and(
          eq(events.clientId, clientId),
          inArray(events.agentId, others),
          eq(events.kind, 'termination_notice'),
          eq(events.action, AWAITING_REPLICA),
          gte(events.receivedAt, now - OUTSTANDING_FOR_MS),
        ),
      ),
  ])
  for (const row of [...live, ...waiting]) if (row.agentId) due.add(row.agentId)
  return due
}
