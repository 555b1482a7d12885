/**
 * Savings milestones (ledger/milestones.ts), told after the hourly ledger rollup: per client with
 * lifetime savings past a milestone, a `savings_milestone` notification whose id names the client and
 * the amount, so each is written once whatever reruns.
 * Its write of `notifications` is flows/notifications.ts's.
 */
import { inArray, sql } from 'drizzle-orm'
import { runBatch } from '../../db/batch'
import type { Database } from '../../db/client'
import { clients, notifications, savingsDaily } from '../../db/schema'
import { milestoneToTell, SAVINGS_MILESTONES_USD } from '../../ledger/milestones'
import { notifyClientOnce } from '../notifications'

/** The notification's id of a client's milestone (USD). */
export function milestoneNotificationId(clientId: string, usd: number): string {
  return `ntf_savings_${usd}_${clientId}`
}

// Each client binds one id per milestone: D1 binds at most 100 parameters per statement.
const CLIENTS_PER_READ = Math.floor(90 / SAVINGS_MILESTONES_USD.length)

/** Tells each client the milestone its lifetime savings reached, if not told yet; how many were told. */
export async function notifySavingsMilestones(db: Database, now: number): Promise<number> {
  const totals = await db
    .select({ clientId: savingsDaily.clientId, saved: sql<number>`total(${savingsDaily.savings})` })
    .from(savingsDaily)
    .where(sql`${savingsDaily.clientId} in (select id from ${clients} where status != 'deleted')`)
    .groupBy(savingsDaily.clientId)
  const passed = totals.filter((t) => t.saved >= SAVINGS_MILESTONES_USD[0])
  let told = 0
  for (let i = 0; i < passed.length; i += CLIENTS_PER_READ) {
    const chunk = passed.slice(i, i + CLIENTS_PER_READ)
    const ids = chunk.flatMap((t) =>
      SAVINGS_MILESTONES_USD.map((m) => milestoneNotificationId(t.clientId, m)),
    )
    const existing = new Set(
      (
        await db.select({ id: notifications.id }).from(notifications).where(inArray(notifications.id, ids))
      ).map((r) => r.id),
    )
    const statements = chunk.flatMap(({ clientId, saved }) => {
      const done = SAVINGS_MILESTONES_USD.filter((m) => existing.has(milestoneNotificationId(clientId, m)))
      const usd = milestoneToTell(saved, done)
      if (usd === null) return []
      return [
        notifyClientOnce(db, milestoneNotificationId(clientId, usd), {
          clientId,
          agentId: null,
          kind: 'savings_milestone',
          severity: 'success',
          message: `SpotGuard has saved you over $${usd.toLocaleString('en-US')} so far ($${saved.toFixed(2)} in all, against on-demand)`,
          createdAt: now,
        }),
      ]
    })
    await runBatch(db, statements)
    told += statements.length
  }
  return told
}
