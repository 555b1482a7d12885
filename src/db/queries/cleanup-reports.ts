/**
 * An agent's cleanup reports, newest first, for its page: the counts stored at receipt and what the
 * stored body names (deleted AMIs and snapshots, failures and why). Scoped by client and agent.
 */
import { and, count, desc, eq } from 'drizzle-orm'
import * as z from 'zod'
import type { Database } from '../client'
import { cleanupReports } from '../schema'
import { offsetOf, type PageOf } from './paging'

/** How many ids of one list a report shows; the rest is counted. */
export const SHOWN_IDS = 20

export interface CleanupReportRow {
  id: string
  /** The agent's clock, epoch ms (null when it sent none). */
  reportedAt: number | null
  receivedAt: number
  amisDeleted: number
  snapshotsDeleted: number
  failures: number
  error: string | null
  /** From the body, at most SHOWN_IDS each. */
  deletedAmis: string[]
  deletedSnapshots: string[]
  failed: Array<{ id: string | null; error: string | null }>
}

export async function cleanupReportsOf(
  db: Database,
  owner: { clientId: string; agentId: string },
  q: { page: number; limit: number },
): Promise<PageOf<CleanupReportRow>> {
  const where = and(eq(cleanupReports.clientId, owner.clientId), eq(cleanupReports.agentId, owner.agentId))
  const [rows, [total]] = await Promise.all([
    db
      .select({
        id: cleanupReports.id,
        reportedAt: cleanupReports.reportedAt,
        receivedAt: cleanupReports.receivedAt,
        amisDeleted: cleanupReports.amisDeleted,
        snapshotsDeleted: cleanupReports.snapshotsDeleted,
        failures: cleanupReports.failures,
        error: cleanupReports.error,
        body: cleanupReports.body,
      })
      .from(cleanupReports)
      .where(where)
      .orderBy(desc(cleanupReports.receivedAt), desc(cleanupReports.reportedAt), desc(cleanupReports.id))
      .limit(q.limit)
      .offset(offsetOf(q)),
    db.select({ n: count() }).from(cleanupReports).where(where),
  ])
  return {
    items: rows.map(({ body, ...row }) => ({ ...row, ...namedIn(body) })),
    total: total?.n ?? 0,
    page: q.page,
    limit: q.limit,
  }
}

const ids = z.array(z.string()).nullish().catch(null)
const failures = z
  .array(
    z.union([
      z.object({ id: z.string().nullish(), error: z.string().nullish() }),
      z.string().transform((error) => ({ id: null, error })),
    ]),
  )
  .nullish()
  .catch(null)
/** What the agent sent (routes/agents/cleanup.ts validated it); a part it left out reads as empty. */
const StoredBody = z.object({
  snapshots: z.object({ deleted: ids, failed: failures }).nullish().catch(null),
  amis: z.object({ deleted_amis: ids, deleted_snapshots: ids, failed: failures }).nullish().catch(null),
})

function namedIn(body: unknown) {
  const parsed = StoredBody.safeParse(body)
  const b = parsed.success ? parsed.data : undefined
  const snapshots = [...(b?.snapshots?.deleted ?? []), ...(b?.amis?.deleted_snapshots ?? [])]
  const failed = [...(b?.amis?.failed ?? []), ...(b?.snapshots?.failed ?? [])]
  return {
    deletedAmis: (b?.amis?.deleted_amis ?? []).slice(0, SHOWN_IDS),
    deletedSnapshots: snapshots.slice(0, SHOWN_IDS),
    failed: failed.slice(0, SHOWN_IDS).map((f) => ({ id: f.id ?? null, error: f.error ?? null })),
  }
}
