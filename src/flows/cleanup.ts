/**
 * What an agent's hourly cleanup reported: counts for the dashboard, the body as the agent sent it.
 * Writes: `cleanup_reports`.
 */
import type { Database } from '../db/client'
import { cleanupReports } from '../db/schema'
import { newId } from '../ids'

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
