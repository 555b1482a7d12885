/**
 * What an agent's hourly cleanup reported: counts for the dashboard, the body as the agent sent it;
 * kept CLEANUP_REPORT_RETENTION_MS (the hourly cron's `cleanup-reports` job deletes older ones).
 * Writes: `cleanup_reports`.
 */
import { sql } from 'drizzle-orm'
import type { Database } from '../db/client'
import { cleanupReports } from '../db/schema'
import { newId } from '../ids'

/** Reports received longer ago than this are deleted: 30 days, 720 hourly reports an agent. */
export const CLEANUP_REPORT_RETENTION_MS = 30 * 86_400_000
/** Reports deleted per run at most; a backlog is carried on by the next hourly run. */
export const MAX_REPORT_DELETES_PER_RUN = 5_000

export interface CleanupReport {
  clientId: string
  agentId: string
  /** The agent's clock, epoch ms (null when it sent none). */
  reportedAt: number | null
  snapshotsDeleted: number
  amisDeleted: number
  failures: number
  error: string | null
  /** The body as received. */
  body: unknown
}

/** Stores a report; returns its id. */
export async function recordCleanupReport(db: Database, report: CleanupReport, now: number): Promise<string> {
  const id = newId('cln')
  await db.insert(cleanupReports).values({ id, ...report, receivedAt: now })
  return id
}

/** Deletes reports received before `now` − the retention (the oldest first, at most `limit`). */
export async function deleteExpiredCleanupReports(
  db: Database,
  now: number,
  limit = MAX_REPORT_DELETES_PER_RUN,
): Promise<{ deleted: number }> {
  const cutoff = Math.trunc(now - CLEANUP_REPORT_RETENTION_MS)
  // The limit as a literal: D1 binds numbers as REAL, and LIMIT wants an integer.
  const result = await db.delete(cleanupReports).where(sql`${cleanupReports.id} in (
    select id from ${cleanupReports} where received_at < ${cutoff}
    order by received_at limit ${sql.raw(String(Math.trunc(limit)))})`)
  return { deleted: result.meta.changes }
}
