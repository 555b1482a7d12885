/** Agent lists and lookups, always limited to a client scope (null = every client, for admins). */
import { and, count, desc, eq, ne, or, sql, type SQL } from 'drizzle-orm'
import * as z from 'zod'
import type { Database } from '../client'
import { AGENT_STATUSES, agents, clients, instances, type Agent } from '../schema'
import { overlayLiveness, type LivenessSource } from './liveness'
import { likePattern, offsetOf, PageQuery, type PageOf } from './paging'

export const AgentListQuery = PageQuery.extend({
  status: z.enum(AGENT_STATUSES).optional(),
  /** Include deleted agents (history). */
  includeDeleted: z.stringbool().default(false),
})
export type AgentListQuery = z.infer<typeof AgentListQuery>

export interface AgentRow {
  id: string
  logicalAgentId: string
  hostname: string | null
  clientId: string
  clientName: string
  instanceId: string | null
  instanceType: string | null
  region: string | null
  az: string | null
  currentMode: string
  currentPoolId: string | null
  status: string
  enabled: boolean
  autoSwitchEnabled: boolean
  manualReplicaEnabled: boolean
  autoTerminateEnabled: boolean
  terminateWaitSeconds: number
  /** Instance types the workload may run on; null: the default rule (engine/compatibility.ts). */
  allowedInstanceTypes: string[] | null
  /** Hours between backup AMIs (0: off), and the newest one the agent reported. */
  backupImageHours: number
  backupImageId: string | null
  backupImageAt: number | null
  version: string | null
  /** `unverified`: registered with the client token only (no signed instance identity document). */
  identity: Agent['identity']
  lastHeartbeatAt: number | null
  installedAt: number
  deletedAt: number | null
}

const agentColumns = {
  id: agents.id,
  logicalAgentId: agents.logicalAgentId,
  hostname: agents.hostname,
  clientId: agents.clientId,
  clientName: clients.name,
  instanceId: agents.instanceId,
  instanceType: instances.instanceType,
  region: instances.region,
  az: instances.az,
  currentMode: sql<string>`coalesce(${instances.mode}, 'unknown')`,
  currentPoolId: instances.poolId,
  status: agents.status,
  enabled: agents.enabled,
  autoSwitchEnabled: agents.autoSwitchEnabled,
  manualReplicaEnabled: agents.manualReplicaEnabled,
  autoTerminateEnabled: agents.autoTerminateEnabled,
  terminateWaitSeconds: agents.terminateWaitSeconds,
  allowedInstanceTypes: agents.allowedInstanceTypes,
  backupImageHours: agents.backupImageHours,
  backupImageId: agents.backupImageId,
  backupImageAt: agents.backupImageAt,
  version: agents.agentVersion,
  identity: agents.identity,
  lastHeartbeatAt: agents.lastHeartbeatAt,
  installedAt: agents.createdAt,
  deletedAt: agents.deletedAt,
}

/** One page of agents with their current instance facts and live status. */
export async function listAgents(
  db: Database,
  live: LivenessSource,
  scope: string | null,
  q: AgentListQuery,
): Promise<PageOf<AgentRow>> {
  const filters: (SQL | undefined)[] = [
    scope === null ? undefined : eq(agents.clientId, scope),
    q.status ? eq(agents.status, q.status) : q.includeDeleted ? undefined : ne(agents.status, 'deleted'),
  ]
  if (q.search) {
    const p = likePattern(q.search)
    filters.push(
      or(
        sql`${agents.logicalAgentId} like ${p} escape '\\'`,
        sql`${agents.hostname} like ${p} escape '\\'`,
        sql`${agents.instanceId} like ${p} escape '\\'`,
        sql`${agents.id} like ${p} escape '\\'`,
        sql`${clients.name} like ${p} escape '\\'`,
      ),
    )
  }
  const where = and(...filters)
  const [items, [total]] = await db.batch([
    db
      .select(agentColumns)
      .from(agents)
      .innerJoin(clients, eq(clients.id, agents.clientId))
      .leftJoin(
        instances,
        and(eq(instances.clientId, agents.clientId), eq(instances.instanceId, agents.instanceId)),
      )
      .where(where)
      .orderBy(desc(agents.lastHeartbeatAt), agents.id)
      .limit(q.limit)
      .offset(offsetOf(q)),
    db.select({ n: count() }).from(agents).innerJoin(clients, eq(clients.id, agents.clientId)).where(where),
  ])
  const views = await live(items.map((a) => ({ agentId: a.id, clientId: a.clientId })))
  return {
    items: items.map((a) => overlayLiveness(a, views.get(a.id))),
    total: total?.n ?? 0,
    page: q.page,
    limit: q.limit,
  }
}

/** The agent row of an id inside a scope; undefined when it does not exist there (or is deleted). */
export async function agentInScope(
  db: Database,
  scope: string | null,
  agentId: string,
  { includeDeleted = false } = {},
): Promise<Agent | undefined> {
  const [row] = await db
    .select()
    .from(agents)
    .where(
      and(
        eq(agents.id, agentId),
        scope === null ? undefined : eq(agents.clientId, scope),
        includeDeleted ? undefined : ne(agents.status, 'deleted'),
      ),
    )
    .limit(1)
  return row
}

/** One agent with its instance facts and live status (for pages), scoped; undefined when not there. */
export async function agentDetail(
  db: Database,
  live: LivenessSource,
  scope: string | null,
  agentId: string,
): Promise<AgentRow | undefined> {
  const [row] = await db
    .select(agentColumns)
    .from(agents)
    .innerJoin(clients, eq(clients.id, agents.clientId))
    .leftJoin(
      instances,
      and(eq(instances.clientId, agents.clientId), eq(instances.instanceId, agents.instanceId)),
    )
    .where(
      and(
        eq(agents.id, agentId),
        scope === null ? undefined : eq(agents.clientId, scope),
        ne(agents.status, 'deleted'),
      ),
    )
    .limit(1)
  if (!row) return undefined
  const views = await live([{ agentId: row.id, clientId: row.clientId }])
  return overlayLiveness(row, views.get(row.id))
}
