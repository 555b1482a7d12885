/**
 * The Worker's cron schedules (wrangler.toml) and the jobs each runs, by name: scheduled.ts runs them,
 * the health read judges from them when a job is late.
 */
export const CRON_ENGINE = '*/5 * * * *'
export const CRON_HOURLY = '0 * * * *'

export const CRON_JOBS = {
  [CRON_ENGINE]: ['engine', 'webhooks', 'instances', 'pricing-reporters'],
  [CRON_HOURLY]: ['ledger', 'client-growth', 'price-retention', 'cleanup-reports', 'agent-tokens'],
} as const

export type CronJob = (typeof CRON_JOBS)[keyof typeof CRON_JOBS][number]

/** How long after its last start a job counts as late: two missed runs of its cron (ms). */
export function staleAfterMs(job: string): number {
  return (CRON_JOBS[CRON_HOURLY] as readonly string[]).includes(job) ? 2 * 3600_000 : 15 * 60_000
}
