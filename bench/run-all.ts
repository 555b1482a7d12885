/**
 * `npm run bench`: runs the per-area benchmarks that exist (bench:control-plane, bench:agent,
 * bench:dashboard), measures billable usage per agent-hour and failover time itself, projects the
 * monthly Cloudflare bill per 1,000 and 100,000 agents, and writes bench/results/*.json plus the
 * summary table of docs/benchmarks.md. BENCH_SECONDS sets the usage window (default 60); BENCH_AREAS limits the
 * per-area benchmarks run (a comma list, `none` for none: their last results files are used; `soak`, the
 * 24-hour soak of docs/soak.md, runs only when named).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../scripts/fleet/control-plane'
import { projectMonthlyBill, WORKERS_PAID_PRICES, type UsagePerAgentHour } from './cost'
import { measureFailover } from './failover'
import { machineLine } from './machine'
import { readResults, summaryTable, writeBetweenMarkers } from './summary'
import { measureUsage, type UsageMeasurement } from './usage'

const RESULTS = join(ROOT, 'bench', 'results')
const ALL_AREAS = ['control-plane', 'agent', 'dashboard']
/** Run only when named in BENCH_AREAS: the 24-hour soak takes ~20 minutes. */
const ON_REQUEST = ['soak']
const AREAS = process.env.BENCH_AREAS
  ? [...ALL_AREAS, ...ON_REQUEST].filter((a) => process.env.BENCH_AREAS!.split(',').includes(a))
  : ALL_AREAS
mkdirSync(RESULTS, { recursive: true })
const machine = machineLine()
const write = (name: string, data: object) =>
  writeFileSync(join(RESULTS, `${name}.json`), `${JSON.stringify({ ...data, machine }, null, 2)}\n`)

const scripts = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts
const areas: Record<string, 'ok' | 'failed' | 'absent'> = {}
for (const area of AREAS) {
  const script = `bench:${area}`
  if (!scripts[script]) {
    areas[area] = 'absent'
    continue
  }
  console.log(`\n== npm run ${script}`)
  const run = spawnSync('npm', ['run', '--silent', script], {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 40 * 60_000,
  })
  areas[area] = run.status === 0 ? 'ok' : 'failed'
}

const seconds = Number(process.env.BENCH_SECONDS ?? 60)
console.log(`\n== billable usage per agent-hour (${seconds} s per agent kind, cadence ×10)`)
const usage: Record<string, UsageMeasurement> = {}
for (const kind of ['push', 'legacy'] as const) {
  usage[kind] = await measureUsage(kind, { agents: 50, speed: 10, seconds })
  console.log(kind, usage[kind])
}
write('fleet-usage', usage)

console.log('\n== failover: interruption notice → failover completed')
const failover = await measureFailover().catch((error: unknown) => ({ error: String(error) }))
console.log(failover)
write('failover', failover)

// D1 rows written: the Worker's meter of meta.rows_written during the measurement, else rows inserted.
/** D1 rows read are not observable under wrangler dev; assumed per request (their price is $0.001/M). */
const ASSUMED_D1_ROWS_READ_PER_REQUEST = 20
const perAgentHour = (u: UsageMeasurement): UsagePerAgentHour => ({
  workerRequests: u.workerRequestsPerAgentHour,
  cpuMsPerRequest: u.cpuMsPerRequest,
  doRequests: u.doRequestsPerAgentHour,
  webSocketMessages: u.webSocketMessagesPerAgentHour,
  doActiveSeconds: (u.doRequestsPerAgentHour * u.doRouteP50Ms) / 1000,
  d1RowsRead: u.workerRequestsPerAgentHour * ASSUMED_D1_ROWS_READ_PER_REQUEST,
  d1RowsWritten: u.d1RowsWrittenPerAgentHour ?? u.d1RowsInsertedPerAgentHour,
})
const bills = Object.fromEntries(
  Object.values(usage).flatMap((u) =>
    [1_000, 100_000].map((n) => [`${u.kind}_${n}`, projectMonthlyBill(n, perAgentHour(u))]),
  ),
)
write('cost', {
  monthly_usd_per_1000_push_agents: bills.push_1000!.totalUsd,
  monthly_usd_per_100000_push_agents: bills.push_100000!.totalUsd,
  monthly_usd_per_1000_legacy_agents: bills.legacy_1000!.totalUsd,
  monthly_usd_per_100000_legacy_agents: bills.legacy_100000!.totalUsd,
  prices: WORKERS_PAID_PRICES,
  assumptions: {
    d1_rows_written:
      "the Worker's D1 meter (sum of meta.rows_written) over the measuring window; rows inserted when the meter is off",
    d1_rows_read_per_request: ASSUMED_D1_ROWS_READ_PER_REQUEST,
    cpu_ms_per_request:
      'workerd CPU under wrangler dev (Worker + Durable Objects + local SQLite) / requests: an upper bound',
    do_active_seconds:
      'Durable Object requests × median latency of those routes (hibernated sockets bill no duration)',
    do_requests:
      'one RPC per request of register, heartbeat, pending-commands, executed and stream; socket messages at 20:1',
  },
  bills,
})

const results = readResults(RESULTS)
const table = summaryTable(results, machine, new Date())
writeBetweenMarkers(join(ROOT, 'docs', 'benchmarks.md'), table)
console.log(`\nareas: ${JSON.stringify(areas)}\n\n${table}`)
