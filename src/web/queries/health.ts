/** System health for admins: real checks only (database round trip, cron freshness, engine version). */
import { count, desc, ne, sql } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { agents, cronRuns, engineParams } from '../../db/schema'

/** A cron job is stale when its last start is older than this (ms): the 5-minute job missed two runs. */
export const CRON_STALE_MS = 15 * 60_000
const HOURLY_STALE_MS = 2 * 3600_000

export async function systemHealth(db: Database, d1: D1Database, now: number) {
  const started = Date.now()
  let database: 'connected' | 'unreachable' = 'connected'
  try {
    await d1.prepare('select 1').first()
  } catch {
    database = 'unreachable'
  }
  const dbLatencyMs = Date.now() - started
  if (database === 'unreachable') {
    return {
      apiStatus: 'degraded',
      database,
      dbLatencyMs,
      timestamp: new Date(now).toISOString(),
      cronRuns: [],
      decisionEngine: null,
      agentVersions: [],
    }
  }
  const [runs, params, versions] = await db.batch([
    db.select().from(cronRuns).orderBy(cronRuns.job),
    db
      .select({
        version: engineParams.version,
        status: engineParams.status,
        activatedAt: engineParams.activatedAt,
      })
      .from(engineParams)
      .where(sql`${engineParams.status} in ('active', 'shadow')`)
      .orderBy(desc(engineParams.version)),
    db
      .select({ version: sql<string>`coalesce(${agents.agentVersion}, 'unknown')`, agents: count() })
      .from(agents)
      .where(ne(agents.status, 'deleted'))
      .groupBy(sql`1`)
      .orderBy(desc(sql`2`)),
  ])
  const cron = runs.map((r) => {
    const limit =
      r.job.includes('hour') || r.job.includes('cleanup') || r.job.includes('rollup')
        ? HOURLY_STALE_MS
        : CRON_STALE_MS
    return { ...r, stale: now - r.startedAt > limit }
  })
  const active = params.find((p) => p.status === 'active')
  return {
    apiStatus: cron.some((r) => r.stale || r.ok === false) ? 'degraded' : 'healthy',
    database,
    dbLatencyMs,
    timestamp: new Date(now).toISOString(),
    cronRuns: cron,
    decisionEngine: {
      activeVersion: active?.version ?? null,
      activatedAt: active?.activatedAt ?? null,
      shadowVersions: params.filter((p) => p.status === 'shadow').map((p) => p.version),
      lastRun: cron.find((r) => r.job.includes('engine')) ?? null,
    },
    agentVersions: versions,
  }
}
