/**
 * Cron Triggers (wrangler.toml): every 5 minutes the decision engine (each agent's run in its Durable
 * Object, flows/engine-tick/fan-out.ts), webhook delivery and the instances whose announced end has come
 * (`terminating` → `terminated`); hourly the ledger (segments synced, the last
 * days' savings recomputed) and today's client growth snapshot.
 * Each job's last run is kept in `cron_runs` for system health.
 * Writes: `cron_runs`.
 */
import { eq } from 'drizzle-orm'
import { settleEndedInstances } from './flows/instances'
import { snapshotClients } from './flows/clients'
import { database, type Database } from './db/client'
import { cronRuns } from './db/schema'
import type { Env } from './env'
import { rollUpSavings } from './flows/ledger/rollup-job'
import { log } from './log'
import { runEngine } from './flows/engine-tick/fan-out'
import { dispatchWebhooks } from './flows/webhooks/dispatch'
import { clock } from './clock'

export const CRON_ENGINE = '*/5 * * * *'
export const CRON_HOURLY = '0 * * * *'

type Job = { name: string; run: (env: Env, db: Database, now: number) => Promise<unknown> }

const JOBS: Record<string, Job[]> = {
  [CRON_ENGINE]: [
    { name: 'engine', run: (env, db, now) => runEngine(env, db, now) },
    { name: 'webhooks', run: (_env, db, now) => dispatchWebhooks(db, now) },
    { name: 'instances', run: (_env, db, now) => settleEndedInstances(db, now) },
  ],
  [CRON_HOURLY]: [
    { name: 'ledger', run: (_env, db, now) => rollUpSavings(db, now) },
    { name: 'client-growth', run: (_env, db, now) => snapshotClients(db, now) },
  ],
}

/** How long after its last start a job counts as late: two missed runs of its cron (ms). */
export function staleAfterMs(job: string): number {
  return JOBS[CRON_HOURLY]!.some((j) => j.name === job) ? 2 * 3600_000 : 15 * 60_000
}

/** Runs the jobs of a cron expression at `now`; a failing job is recorded and does not stop the others. */
export async function runScheduled(cron: string, env: Env, now: number): Promise<void> {
  const db = database(env.DB)
  for (const job of JOBS[cron] ?? []) {
    await db
      .insert(cronRuns)
      .values({ job: job.name, startedAt: now, finishedAt: null, ok: null, detail: null })
      .onConflictDoUpdate({
        target: cronRuns.job,
        set: { startedAt: now, finishedAt: null, ok: null, detail: null },
      })
    let ok = true
    let detail: string
    try {
      detail = JSON.stringify(await job.run(env, db, now))
    } catch (err) {
      ok = false
      detail = (err as Error).message
      log.error({ job: job.name, message: detail })
    }
    await db.update(cronRuns).set({ finishedAt: clock.now(), ok, detail }).where(eq(cronRuns.job, job.name))
  }
}
