/**
 * The 5-minute cron during a load run, as Cloudflare fires it: on its schedule whatever the crowd is
 * doing (the ramp included), without waiting for the last run to end. Cron does not fire under
 * wrangler dev, so the test fires it (`/__scheduled`). The handler runs the jobs in `waitUntil`, so
 * the answer comes when they are started, not done: their cost shows in the crowd's latency around.
 */
import { CRON_ENGINE } from '../../src/cron'
import type { TestWorker } from '../support/worker'

export interface CronRun {
  /** Seconds since the crowd started. */
  firedAtS: number
  /** Until the runtime answered `/__scheduled` (the jobs go on in its `waitUntil`), ms; null: not yet. */
  ms: number | null
  ok: boolean | null
}

export interface CronTimer {
  readonly runs: CronRun[]
  stop(): void
}

/** Fires the engine's cron `firstAfterMs` from now, then every `everyMs`, until stopped. */
export function fireEngineCron(worker: TestWorker, firstAfterMs: number, everyMs = 300_000): CronTimer {
  const startedAt = performance.now()
  const runs: CronRun[] = []
  const fire = () => {
    const run: CronRun = { firedAtS: Math.round((performance.now() - startedAt) / 1000), ms: null, ok: null }
    runs.push(run)
    const firedAt = performance.now()
    void worker.scheduled(CRON_ENGINE).then(
      () => Object.assign(run, { ms: Math.round(performance.now() - firedAt), ok: true }),
      () => Object.assign(run, { ms: Math.round(performance.now() - firedAt), ok: false }),
    )
  }
  let interval: NodeJS.Timeout | undefined
  const first = setTimeout(() => {
    fire()
    interval = setInterval(fire, everyMs)
  }, firstAfterMs)
  return {
    runs,
    stop() {
      clearTimeout(first)
      clearInterval(interval)
    },
  }
}
