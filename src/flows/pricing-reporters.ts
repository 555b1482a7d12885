/**
 * Who reports prices (prices/reporters.ts): a 5.x agent learns its role from its config
 * (`pricing_reporter`), elected on the first ask of its group; the 5-minute cron re-elects where the
 * reporter went offline, was deleted or moved, or a verified agent outranks an unverified reporter, and
 * tells both agents (`config_changed`).
 * Writes: `pricing_reporters`.
 */
import { and, eq, isNotNull, ne } from 'drizzle-orm'
import type { Database } from '../db/client'
import { runBatch } from '../db/batch'
import { agents, instances, pricingReporters, type Agent } from '../db/schema'
import { AGENT_ON_ITS_INSTANCE } from '../db/queries/instances'
import type { Env } from '../env'
import { log } from '../log'
import { isLegacyAgent } from '../protocol'
import { firstInLine, planElection, type Candidate, type Group } from '../prices/reporters'
import { sessionOf } from '../session/stub'
import { pricedTypesOfGroup } from './priced-types'

/**
 * The role said to a 5.x agent in its config: whether it is its group's reporter (elected now when the
 * group has none). Nothing for an installed agent; true while its instance's group is unknown.
 */
export async function pricingRoleOf(
  db: Database,
  agent: Agent,
  now: number,
): Promise<{ pricing_reporter?: boolean; pricing_instance_types?: string[] }> {
  if (isLegacyAgent(agent.agentVersion)) return {}
  const [own] = await candidates(db, and(eq(agents.id, agent.id), eq(agents.clientId, agent.clientId)))
  if (!own) return { pricing_reporter: true }
  const group: Group = { clientId: own.clientId, region: own.region, instanceType: own.instanceType }
  const reporter = (await reporterOf(db, group)) ?? (await electFirst(db, group, now))
  // No agent of the group can report as D1 sees it (this one is just back): it reports until the cron.
  const isReporter = reporter === null || reporter === agent.id
  if (!isReporter) return { pricing_reporter: false }
  // The reporter prices every type the group's workloads may move to, not only its own.
  return { pricing_reporter: true, pricing_instance_types: await pricedTypesOfGroup(db, group) }
}

/**
 * The cron's pass over every group: a reporter that can no longer report is replaced by the next in
 * line, and the agents whose role changed are told over their sockets.
 */
export async function reelectPricingReporters(env: Env, db: Database, now: number) {
  const [all, current] = await Promise.all([candidates(db), db.select().from(pricingReporters)])
  const plan = planElection(all, current, now)
  await runBatch(db, [
    ...plan.elect.map((r) =>
      db
        .insert(pricingReporters)
        .values(r)
        .onConflictDoUpdate({
          target: [pricingReporters.clientId, pricingReporters.region, pricingReporters.instanceType],
          set: { agentId: r.agentId, electedAt: r.electedAt },
        }),
    ),
    ...plan.vacate.map((g) => db.delete(pricingReporters).where(inGroup(g))),
  ])
  const told = await Promise.allSettled(plan.tell.map((agentId) => sessionOf(env, agentId).configChanged()))
  const failed = told.filter((t) => t.status === 'rejected').length
  if (failed > 0) log.error({ message: 'config_changed not delivered', failed })
  return { elected: plan.elect.length, vacated: plan.vacate.length, told: plan.tell.length, failed }
}

/** The first reporter of a group: the first in line of its candidates (another ask may have won). */
async function electFirst(db: Database, group: Group, now: number): Promise<string | null> {
  const next = firstInLine(
    await candidates(
      db,
      and(
        eq(agents.clientId, group.clientId),
        eq(instances.region, group.region),
        eq(instances.instanceType, group.instanceType),
      ),
    ),
  )
  if (!next) return null
  await db
    .insert(pricingReporters)
    .values({ ...group, agentId: next.agentId, electedAt: now })
    .onConflictDoNothing()
  return reporterOf(db, group)
}

async function reporterOf(db: Database, group: Group): Promise<string | null> {
  const [row] = await db
    .select({ agentId: pricingReporters.agentId })
    .from(pricingReporters)
    .where(inGroup(group))
  return row?.agentId ?? null
}

function inGroup(g: Group) {
  return and(
    eq(pricingReporters.clientId, g.clientId),
    eq(pricingReporters.region, g.region),
    eq(pricingReporters.instanceType, g.instanceType),
  )
}

/** Agents not deleted, each with the group of its current instance (one whose type and region are known). */
async function candidates(db: Database, where?: ReturnType<typeof and>): Promise<Candidate[]> {
  const rows = await db
    .select({
      agentId: agents.id,
      clientId: agents.clientId,
      agentVersion: agents.agentVersion,
      status: agents.status,
      identity: agents.identity,
      createdAt: agents.createdAt,
      region: instances.region,
      instanceType: instances.instanceType,
    })
    .from(agents)
    .innerJoin(instances, AGENT_ON_ITS_INSTANCE)
    .where(
      and(
        ne(agents.status, 'deleted'),
        isNotNull(instances.region),
        isNotNull(instances.instanceType),
        where,
      ),
    )
  return rows.map((r) => ({ ...r, region: r.region!, instanceType: r.instanceType! }))
}
