/** Instance lists and lookups with current prices, limited to a client scope (null = all, for admins). */
import { and, count, desc, eq, or, sql, type SQL } from 'drizzle-orm'
import * as z from 'zod'
import type { Database } from '../client'
import { agents, clients, INSTANCE_STATUSES, instances, MODES, type Agent, type Instance } from '../schema'
import { statusAtSql, type InstanceStatus } from './instance-status'
import { clock } from '../../clock'
import { liveStatus, type LivenessSource } from './liveness'
import { likePattern, offsetOf, PageQuery, type PageOf } from './paging'
import { pricesOfInstances, savingsPercent } from './prices'

export const InstanceListQuery = PageQuery.extend({
  status: z.enum(INSTANCE_STATUSES).optional(),
  mode: z.enum(MODES).optional(),
  region: z.string().trim().max(40).optional(),
})
export type InstanceListQuery = z.infer<typeof InstanceListQuery>

export interface InstanceRow {
  id: string
  instanceId: string
  clientId: string
  clientName: string
  agentId: string
  logicalAgentId: string
  agentStatus: string
  region: string | null
  az: string | null
  instanceType: string | null
  currentMode: string
  currentPoolId: string | null
  spotPrice: number | null
  ondemandPrice: number | null
  /** Saving of the current placement against on-demand, percent. */
  savingsPercent: number | null
  isActive: boolean
  /** As true now: `terminating` until an interrupted instance's announced end (instance-status.ts). */
  status: InstanceStatus
  /** When it ended or ends (its notice's time while `terminating`); null while active. */
  terminatedAt: number | null
  installedAt: number
}

/** One page of instances, active first, with the current spot and on-demand prices and live agent status. */
export async function listInstances(
  db: Database,
  live: LivenessSource,
  scope: string | null,
  q: InstanceListQuery,
): Promise<PageOf<InstanceRow>> {
  const status = statusAtSql(clock.now())
  const filters: (SQL | undefined)[] = [
    scope === null ? undefined : eq(instances.clientId, scope),
    q.status ? sql`${status} = ${q.status}` : undefined,
    q.mode ? eq(instances.mode, q.mode) : undefined,
    q.region ? eq(instances.region, q.region) : undefined,
  ]
  if (q.search) {
    const p = likePattern(q.search)
    filters.push(
      or(
        sql`${instances.instanceId} like ${p} escape '\\'`,
        sql`${instances.instanceType} like ${p} escape '\\'`,
        sql`${instances.az} like ${p} escape '\\'`,
        sql`${agents.logicalAgentId} like ${p} escape '\\'`,
        sql`${clients.name} like ${p} escape '\\'`,
      ),
    )
  }
  const where = and(...filters)
  const [rows, [total]] = await db.batch([
    db
      .select({
        id: instances.id,
        instanceId: instances.instanceId,
        clientId: instances.clientId,
        clientName: clients.name,
        agentId: instances.agentId,
        logicalAgentId: agents.logicalAgentId,
        // Aliased: `instances.status` below has the same column name (see db/batch-columns.ts).
        agentStatus: sql<string>`${agents.status}`.as('agent_status'),
        region: instances.region,
        az: instances.az,
        instanceType: instances.instanceType,
        currentMode: instances.mode,
        currentPoolId: instances.poolId,
        status: sql<InstanceStatus>`${status}`.as('instance_status'),
        terminatedAt: instances.terminatedAt,
        installedAt: instances.createdAt,
      })
      .from(instances)
      .innerJoin(agents, eq(agents.id, instances.agentId))
      .innerJoin(clients, eq(clients.id, instances.clientId))
      .where(where)
      .orderBy(
        sql`case ${status} when 'active' then 0 when 'terminating' then 1 else 2 end`,
        desc(instances.updatedAt),
        instances.id,
      )
      .limit(q.limit)
      .offset(offsetOf(q)),
    db
      .select({ n: count() })
      .from(instances)
      .innerJoin(agents, eq(agents.id, instances.agentId))
      .innerJoin(clients, eq(clients.id, instances.clientId))
      .where(where),
  ])
  const [views, prices] = await Promise.all([
    live(rows.map((r) => ({ agentId: r.agentId, clientId: r.clientId }))),
    // Each instance priced as its own client sees it, the operator's list included.
    pricesOfInstances(
      db,
      rows.map((r) => ({ ...r, poolId: r.currentPoolId })),
      clock.now(),
    ),
  ])
  const items = rows.map((r, k) => {
    const { spot: spotPrice, onDemand: ondemandPrice } = prices[k]!
    const current = r.currentMode === 'spot' ? spotPrice : r.currentMode === 'ondemand' ? ondemandPrice : null
    return {
      ...r,
      spotPrice,
      ondemandPrice,
      agentStatus: liveStatus(r.agentStatus, views.get(r.agentId)),
      isActive: r.status === 'active',
      savingsPercent: savingsPercent(current, ondemandPrice),
    }
  })
  return { items, total: total?.n ?? 0, page: q.page, limit: q.limit }
}

/** The instance of an EC2 id inside a scope (the newest if an admin's lookup spans clients), or undefined. */
export async function instanceInScope(
  db: Database,
  scope: string | null,
  instanceId: string,
): Promise<Instance | undefined> {
  const [row] = await db
    .select()
    .from(instances)
    .where(
      and(eq(instances.instanceId, instanceId), scope === null ? undefined : eq(instances.clientId, scope)),
    )
    .orderBy(desc(instances.updatedAt))
    .limit(1)
  return row
}

/** The agent's instance with this EC2 id, or null. */
export async function findInstanceOfAgent(
  db: Database,
  agent: Agent,
  instanceId: string,
): Promise<Instance | null> {
  const [row] = await db
    .select()
    .from(instances)
    .where(
      and(
        eq(instances.clientId, agent.clientId),
        eq(instances.agentId, agent.id),
        eq(instances.instanceId, instanceId),
      ),
    )
    .limit(1)
  return row ?? null
}

/** Joins an agent to its current instance (the row of its own client and agent with its instance id). */
export const AGENT_ON_ITS_INSTANCE = and(
  eq(instances.agentId, agents.id),
  eq(instances.clientId, agents.clientId),
  eq(instances.instanceId, agents.instanceId),
)
