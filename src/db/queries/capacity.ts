/**
 * The capacity evidence of pools as one client sees it (engine/capacity.ts), read from D1: its latest
 * placement score of each (its own only: scores are per AWS account) and the launches that failed
 * there for lack of capacity: its own of the last 24 h, counted; for the last capacity error it trusts,
 * also other clients' of the last hour whose agent is verified (weighed by distinct clients as
 * db/queries/market.ts weighs shared evidence: engine/weigh-signals.ts).
 */
import { and, eq, gte, inArray, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { agents, capacityErrors, placementScores, placementScoreStatus } from '../schema'
import { lastAgreed } from '../../engine/weigh-signals'
import type { PoolQuote } from '../../engine/types'

const HOUR = 3_600_000
const DAY = 24 * HOUR

export type PoolCapacity = Pick<PoolQuote, 'placementScore' | 'capacityErrors24h' | 'lastCapacityErrorAt'>

/** Each pool's capacity evidence at server time `now` (at most 90 pool ids: D1's bound parameters). */
export async function loadPoolCapacity(
  db: Database,
  clientId: string,
  poolIds: readonly string[],
  now: number,
): Promise<Map<string, PoolCapacity>> {
  const out = new Map<string, PoolCapacity>()
  if (poolIds.length === 0) return out
  const ids = [...poolIds]
  const [scores, errors] = await Promise.all([
    db
      .select({ poolId: placementScores.poolId, score: placementScores.score, at: placementScores.scoredAt })
      .from(placementScores)
      .where(and(eq(placementScores.clientId, clientId), inArray(placementScores.poolId, ids))),
    db
      .select({
        poolId: capacityErrors.poolId,
        clientId: capacityErrors.clientId,
        at: capacityErrors.at,
        shared: sql<boolean>`coalesce(${agents.identity} = 'verified', 0)`.mapWith(Boolean),
      })
      .from(capacityErrors)
      .leftJoin(agents, eq(agents.id, capacityErrors.agentId))
      .where(and(inArray(capacityErrors.poolId, ids), gte(capacityErrors.at, now - DAY))),
  ])
  for (const poolId of ids) {
    const score = scores.find((s) => s.poolId === poolId)
    const here = errors.filter((e) => e.poolId === poolId && e.at <= now)
    const own = here.filter((e) => e.clientId === clientId).map((e) => e.at)
    const others = new Map<string, number[]>()
    for (const e of here)
      if (e.clientId !== clientId && e.shared && e.at >= now - HOUR)
        others.set(e.clientId, [...(others.get(e.clientId) ?? []), e.at])
    out.set(poolId, {
      placementScore: score ? { score: score.score, ageHours: Math.max(0, now - score.at) / HOUR } : null,
      capacityErrors24h: own.length,
      lastCapacityErrorAt: lastAgreed(own, [...others.values()]),
    })
  }
  return out
}

/** Whether the agent's placement-score requests are answered (null: it never reported), for its page. */
export async function placementScoreStatusOf(db: Database, clientId: string, agentId: string) {
  const [row] = await db
    .select()
    .from(placementScoreStatus)
    .where(and(eq(placementScoreStatus.clientId, clientId), eq(placementScoreStatus.agentId, agentId)))
  return row ?? null
}
