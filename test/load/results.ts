/**
 * bench/results/load.json: the figures issue 13 asks of `npm run test:load`. Written only by a run of
 * at least 1,000 agents for 5 minutes (a shrunk run would overwrite the record with a smaller one);
 * LOAD_RESULTS=always writes any run, for a look while developing.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../../scripts/fleet/control-plane'
import { machineLine } from '../../bench/machine'
import type { CronRun } from './cron'
import type { Crowd } from './fleet'
import type { FrontMinute, FrontRoute } from './front'
import type { WindowFigures } from './metrics'

export interface RestartFigures {
  /** Cleanup reports the Worker answered 2xx around the restart. */
  acknowledgedReports: number
  /** Of those, not in D1 afterwards. */
  lostReports: number
  /** Commands an agent ran more than once, or recorded as more than one switch. */
  doubledCommands: number
  commandsQueuedBefore: number
}

export interface LoadRun {
  agents: number
  minutes: number
  rampSeconds: number
  /** The load window as run (ramp, registrations, then `minutes`), ms. */
  windowMs: number
  /** The load window's figures (the restart's are in `restart`). */
  metrics: WindowFigures
  crowd: Crowd
  restart: RestartFigures | null
  /** The front's view per minute: gate queue and the runtime's own answer time. */
  front: FrontMinute[]
  /** The runtime's own answer time per route over the run. */
  frontRoutes: FrontRoute[]
  /** The engine's cron as fired during the window. */
  cronRuns: CronRun[]
  /** The load generator's event-loop delay p99 per minute, ms. */
  eventLoopP99ByMinute: number[]
}

export function writeLoadResults(run: LoadRun): void {
  const isFull = run.agents >= 1_000 && run.minutes >= 5
  if (!isFull && process.env.LOAD_RESULTS !== 'always') return
  const { overall } = run.metrics
  const results = {
    agents: run.agents,
    minutes: run.minutes,
    errors: run.metrics.errors,
    requests: run.metrics.requests,
    socket_messages: run.crowd.push.reduce((sum, a) => sum + a.messagesSent, 0),
    p50_ms: overall.p50Ms,
    p99_ms: overall.p99Ms,
    max_ms: overall.maxMs,
    http_p99_ms: run.metrics.http.p99Ms,
    routes: Object.fromEntries(
      run.metrics.table.map((r) => [
        r.route,
        {
          requests: r.count,
          errors: r.errors,
          retried: r.retried,
          p50_ms: r.p50Ms,
          p99_ms: r.p99Ms,
          max_ms: r.maxMs,
        },
      ]),
    ),
    by_minute: run.metrics.byMinute,
    front_by_minute: run.front,
    front_by_route: run.frontRoutes,
    engine_cron_runs: run.cronRuns,
    event_loop_delay_p99_ms_by_minute: run.eventLoopP99ByMinute,
    registrations_retried: run.metrics.retried,
    restart_acknowledged_reports: run.restart?.acknowledgedReports ?? null,
    restart_lost_reports: run.restart?.lostReports ?? null,
    restart_doubled_commands: run.restart?.doubledCommands ?? null,
    restart_commands_queued_before: run.restart?.commandsQueuedBefore ?? null,
    ramp_seconds: run.rampSeconds,
    load_window_seconds: Math.round(run.windowMs / 1000),
    setup: `${run.agents} agents of one client, half installed 4.0.0/3.2.0 pollers, half 5.x push sockets, started over ${run.rampSeconds} s, then ${run.minutes} min, the 5-minute cron fired on its schedule; wrangler dev (one workerd, local D1) behind test/load/front.ts; a restart of wrangler dev under load after`,
    machine: machineLine(),
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
  writeFileSync(join(ROOT, 'bench', 'results', 'load.json'), `${JSON.stringify(results, null, 2)}\n`)
}
