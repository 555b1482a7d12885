/** Switch history, decisions and replicas of a client (always scoped to one client). */
import { and, desc, eq, gt, inArray, or, type SQL } from 'drizzle-orm'
import type { Database } from '../client'
import { agents, decisions, replicas, switches } from '../schema'
import { clock } from '../../clock'
import { commandTypesFor } from '../../protocol'

/** Switches newest first (legacy field names plus downtime). */
export async function switchHistory(
  db: Database,
  clientId: string,
  opts: { instanceId?: string; limit: number; offset?: number },
) {
  const filters: (SQL | undefined)[] = [eq(switches.clientId, clientId)]
  if (opts.instanceId)
    filters.push(or(eq(switches.oldInstanceId, opts.instanceId), eq(switches.newInstanceId, opts.instanceId)))
  const rows = await db
    .select()
    .from(switches)
    .where(and(...filters))
    .orderBy(desc(switches.receivedAt))
    .limit(opts.limit)
    .offset(opts.offset ?? 0)
  return rows.map((s) => ({
    id: s.id,
    agentId: s.agentId,
    commandId: s.commandId,
    oldInstanceId: s.oldInstanceId,
    newInstanceId: s.newInstanceId,
    timestamp: s.receivedAt,
    fromMode: s.oldMode,
    toMode: s.newMode,
    fromPool: s.oldPoolId,
    toPool: s.newPoolId,
    /** The instance types before and after (they differ when the switch changed the type). */
    fromType: s.oldInstanceType,
    toType: s.instanceType,
    trigger: s.trigger,
    price: s.newPrice,
    onDemandPrice: s.onDemandPrice,
    /** USD per hour gained by the new placement over the old one (positive saves); null when undone. */
    savingsImpact:
      s.undoneAt === null && s.oldPrice !== null && s.newPrice !== null
        ? Math.round((s.oldPrice - s.newPrice) * 10_000) / 10_000
        : null,
    downtimeMs: s.downtimeMs,
    durationMs: s.durationMs,
    /** Why EC2 did not follow it (a failed promotion command); null otherwise. */
    errorMessage: s.errorMessage,
    /** When it was undone because the agent refused it (EC2 never followed); null otherwise. */
    undoneAt: s.undoneAt,
    /** A stateful switch (steps on its detail page): its data loss bound (s; null: not known) and address. */
    stateful: s.statefulDetail !== null,
    dataLossBoundSeconds: s.dataLossBoundSeconds,
    oldPrivateIp: s.oldPrivateIp,
    newPrivateIp: s.newPrivateIp,
    addressChanged: s.addressChanged,
  }))
}

/** Decisions of a client's agents since `from`, newest first; shadow runs only when asked. */
export async function decisionTimeline(
  db: Database,
  clientId: string,
  opts: { agentIds?: string[]; from: number; limit: number; includeShadow?: boolean },
) {
  return db
    .select()
    .from(decisions)
    .where(
      and(
        eq(decisions.clientId, clientId),
        opts.agentIds ? inArray(decisions.agentId, opts.agentIds.slice(0, 90)) : undefined,
        gt(decisions.lastSeenAt, opts.from),
        opts.includeShadow ? undefined : eq(decisions.shadow, false),
      ),
    )
    .orderBy(desc(decisions.createdAt))
    .limit(opts.limit)
}

/** Replicas of a client: live and terminating ones (EC2 runs them), or all of them. */
export async function clientReplicas(db: Database, clientId: string, includeEnded: boolean) {
  const rows = await db
    .select({ replica: replicas, agentVersion: agents.agentVersion })
    .from(replicas)
    .innerJoin(agents, and(eq(agents.clientId, replicas.clientId), eq(agents.id, replicas.agentId)))
    .where(
      and(
        eq(replicas.clientId, clientId),
        includeEnded ? undefined : inArray(replicas.status, ['launching', 'syncing', 'ready', 'terminating']),
      ),
    )
    .orderBy(desc(replicas.createdAt))
    .limit(200)
  return rows.map(({ replica: r, agentVersion }) => {
    const start = r.launchedAt ?? r.createdAt
    const end = r.terminatedAt ?? r.promotedAt ?? clock.now()
    return {
      ...r,
      totalCost: r.hourlyCost === null ? null : (r.hourlyCost * Math.max(0, end - start)) / 3600_000,
      // A 4.0.0 agent has no terminate_replica: the client terminates the instance in EC2.
      agentCanTerminate: commandTypesFor(agentVersion).includes('terminate_replica'),
    }
  })
}
