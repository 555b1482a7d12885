/**
 * Cron Triggers (wrangler.toml): every 5 minutes the decision engine (each client's agents decided
 * together, flows/engine-tick/fan-out.ts), webhook delivery, the instances whose announced end has come
 * (`terminating` → `terminated`) and the pricing reporters re-elected where one is gone; hourly the
 * ledger (segments synced, the last days' savings recomputed, savings milestones told), today's client
 * growth snapshot, price history retention (the hourly rollup, expired rows deleted), cleanup reports
 * past their retention deleted and the agent tokens of instances ended an hour ago revoked.
 * Each job's last run is kept in `cron_runs` for system health.
 * Writes: `cron_runs`.
 */
import { eq } from 'drizzle-orm'
import { settleEndedInstances } from './flows/instances'
import { reelectPricingReporters } from './flows/pricing-reporters'
import { snapshotClients } from './flows/clients'
import { database, type Database } from './db/client'
import { cronRuns } from './db/schema'
import { settingsOf, type Env } from './env'
import { rollUpSavings } from './flows/ledger/rollup-job'
import { log } from './log'
import { runEngine } from './flows/engine-tick/fan-out'
import { retainPriceHistory } from './flows/price-retention'
import { deleteExpiredCleanupReports } from './flows/cleanup'
import { revokeEndedInstanceTokens } from './auth/agent-tokens'
import { dispatchWebhooks } from './flows/webhooks/dispatch'
import { clock } from './clock'
import { CRON_JOBS, type CronJob } from './cron'

const RUN: Record<CronJob, (env: Env, db: Database, now: number) => Promise<unknown>> = {
  engine: (env, db, now) => runEngine(env, db, now),
  webhooks: (env, db, now) => dispatchWebhooks(db, now, { allowHttp: settingsOf(env).webhookAllowHttp }),
  instances: (_env, db, now) => settleEndedInstances(db, now),
  'pricing-reporters': (env, db, now) => reelectPricingReporters(env, db, now),
  ledger: (_env, db, now) => rollUpSavings(db, now),
  'client-growth': (_env, db, now) => snapshotClients(db, now),
  'price-retention': (_env, db, now) => retainPriceHistory(db, now),
  'cleanup-reports': (_env, db, now) => deleteExpiredCleanupReports(db, now),
  'agent-tokens': (_env, db, now) => revokeEndedInstanceTokens(db, now),
}

/** Runs the jobs of a cron expression at `now`; a failing job is recorded and does not stop the others. */
export async function runScheduled(cron: string, env: Env, now: number): Promise<void> {
  const db = database(env.DB)
  const names: readonly CronJob[] = CRON_JOBS[cron as keyof typeof CRON_JOBS] ?? []
  for (const name of names) {
    await db
      .insert(cronRuns)
      .values({ job: name, startedAt: now, finishedAt: null, ok: null, detail: null })
      .onConflictDoUpdate({
        target: cronRuns.job,
        set: { startedAt: now, finishedAt: null, ok: null, detail: null },
      })
    let ok = true
    let detail: string
    try {
      detail = JSON.stringify(await RUN[name](env, db, now))
    } catch (err) {
      ok = false
      detail = (err as Error).message
      log.error({ job: name, message: detail })
    }
    await db.update(cronRuns).set({ finishedAt: clock.now(), ok, detail }).where(eq(cronRuns.job, name))
  }
}
