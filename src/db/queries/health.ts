/** System health for admins: real checks only (database round trip, cron freshness, engine version). */
import { count, desc, ne, sql } from 'drizzle-orm'
import type { Database } from '../client'
import { agents, cronRuns, engineParams } from '../schema'
import { staleAfterMs } from '../../cron'
import { clock } from '../../clock'

export async function systemHealth(db: Database, d1: D1Database, now: number) {
  const started = clock.now()
  let database: 'connected' | 'unreachable' = 'connected'
  try {
    await d1.prepare('select 1').first()
  } catch {
    database = 'unreachable'
  }
  const dbLatencyMs = clock.now() - started
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
  const cron = runs.map((r) => ({ ...r, stale: now - r.startedAt > staleAfterMs(r.job) }))
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
