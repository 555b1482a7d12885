/**
 * `npm run bench`: runs the per-area benchmarks that exist (bench:control-plane, bench:agent,
 * bench:dashboard), measures billable usage per agent-hour and failover time itself, projects the
 * monthly Cloudflare bill per 1,000, 10,000 and 100,000 agents against issue 13's budget (Worker CPU and
 * object duration from the CPU of each kind of operation, bench/cpu-attribution.ts), and writes
 * bench/results/*.json plus the summary table of docs/benchmarks.md. Stages may be named:
 * `npm run bench -- usage cost` re-measures the usage and the bill only (`cost` alone re-prices the
 * last fleet-usage.json). BENCH_SECONDS sets the usage window (default 60); BENCH_AREAS limits the
 * per-area benchmarks run (a comma list, `none` for none: their last results files are used; `soak`,
 * the 24-hour soak of docs/soak.md, runs only when named).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../scripts/fleet/control-plane'
import {
  ASSUMED_D1_ROWS_READ_PER_REQUEST,
  doActiveSecondsPerAgentHour,
  usagePerAgentHour,
  workerCpuMsPerAgentHour,
} from './bill-inputs'
import { projectMonthlyBill, WORKERS_PAID_PRICES } from './cost'
import { attributeCpu, type CpuAttribution } from './cpu-attribution'
import { measureFailover } from './failover'
import { machineLine } from './machine'
import { readResults, summaryTable, writeBetweenMarkers } from './summary'
import { measureUsage, type UsageMeasurement } from './usage'

const STAGES = ['areas', 'usage', 'failover', 'cost'] as const
type Stage = (typeof STAGES)[number]
const named = process.argv.slice(2)
const unknown = named.filter((n) => !(STAGES as readonly string[]).includes(n))
if (unknown.length) throw new Error(`unknown stage ${unknown.join(', ')}: one of ${STAGES.join(', ')}`)
const runs = (stage: Stage) => named.length === 0 || named.includes(stage)
/** Fleet sizes the bill is projected for. */
const FLEETS = [1_000, 10_000, 100_000]

const RESULTS = join(ROOT, 'bench', 'results')
const ALL_AREAS = ['control-plane', 'agent', 'dashboard']
/** Run only when named in BENCH_AREAS: the 24-hour soak takes ~20 minutes, the 10,000 sockets 30 or more (bound by registering them). */
const ON_REQUEST = ['soak', 'socket-scale']
const AREAS = process.env.BENCH_AREAS
  ? [...ALL_AREAS, ...ON_REQUEST].filter((a) => process.env.BENCH_AREAS!.split(',').includes(a))
  : ALL_AREAS
mkdirSync(RESULTS, { recursive: true })
const machine = machineLine()
const write = (name: string, data: object) =>
  writeFileSync(join(RESULTS, `${name}.json`), `${JSON.stringify({ ...data, machine }, null, 2)}\n`)
/** A results file as written, without its machine line. */
const readResult = (name: string): unknown => {
  const data = JSON.parse(readFileSync(join(RESULTS, `${name}.json`), 'utf8')) as Record<string, unknown>
  delete data.machine
  return data
}

const scripts = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts
const areas: Record<string, 'ok' | 'failed' | 'absent'> = {}
for (const area of runs('areas') ? AREAS : []) {
  const script = `bench:${area}`
  if (!scripts[script]) {
    areas[area] = 'absent'
    continue
  }
  console.log(`\n== npm run ${script}`)
  const run = spawnSync('npm', ['run', '--silent', script], {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 60 * 60_000,
  })
  areas[area] = run.status === 0 ? 'ok' : 'failed'
}

const seconds = Number(process.env.BENCH_SECONDS ?? 60)
let usage: Record<string, UsageMeasurement>
let cpu: CpuAttribution
if (runs('usage')) {
  console.log(`\n== billable usage per agent-hour (${seconds} s per agent kind, everything ×10)`)
  usage = {}
  for (const kind of ['push', 'legacy'] as const) {
    usage[kind] = await measureUsage(kind, { agents: 50, speed: 10, seconds })
    console.log(kind, usage[kind])
  }
  write('fleet-usage', usage)
  console.log('\n== CPU by kind of operation (one kind at a time, the idle baseline subtracted)')
  cpu = await attributeCpu({ agents: 50, requests: 300 })
  console.log(cpu)
  write('cpu-by-operation', cpu)
} else {
  usage = readResult('fleet-usage') as Record<string, UsageMeasurement>
  cpu = readResult('cpu-by-operation') as CpuAttribution
}

if (runs('failover')) {
  console.log('\n== failover: interruption notice → failover completed')
  const failover = await measureFailover().catch((error: unknown) => ({ error: String(error) }))
  console.log(failover)
  write('failover', failover)
}

const perAgentHour = (u: UsageMeasurement) => usagePerAgentHour(u, cpu)
const byKind = <T>(of: (u: UsageMeasurement) => T) =>
  Object.fromEntries(Object.values(usage).map((u) => [u.kind, of(u)]))
if (runs('cost')) {
  const bills = Object.fromEntries(
    Object.values(usage).flatMap((u) =>
      FLEETS.map((n) => [`${u.kind}_${n}`, projectMonthlyBill(n, perAgentHour(u))]),
    ),
  )
  const push = usage.push!
  write('cost', {
    monthly_usd_per_1000_push_agents: bills.push_1000!.totalUsd,
    monthly_usd_per_10000_push_agents: bills.push_10000!.totalUsd,
    monthly_usd_per_100000_push_agents: bills.push_100000!.totalUsd,
    monthly_usd_per_1000_legacy_agents: bills.legacy_1000!.totalUsd,
    monthly_usd_per_10000_legacy_agents: bills.legacy_10000!.totalUsd,
    monthly_usd_per_100000_legacy_agents: bills.legacy_100000!.totalUsd,
    push_1000_within_budget: bills.push_1000!.budgets.every((b) => b.withinBudget),
    /** If auto-answered pings were billed like messages (20:1): what the 1,000 push agents' bill would be. */
    monthly_usd_per_1000_push_agents_if_pings_billed: projectMonthlyBill(1_000, {
      ...perAgentHour(push),
      webSocketMessages: Math.max(push.wakingSocketMessagesPerAgentHour, push.webSocketMessagesPerAgentHour),
    }).totalUsd,
    worker_cpu_ms_per_agent_hour: byKind((u) => workerCpuMsPerAgentHour(u, cpu)),
    /** The old all-in figure: workerd's whole CPU over the usage window (not what Cloudflare bills). */
    worker_cpu_ms_upper_bound_per_agent_hour: byKind((u) => u.cpuMsPerAgentHour),
    do_active_seconds_per_agent_hour: byKind((u) => doActiveSecondsPerAgentHour(u)),
    do_requests_per_agent_hour_by_kind: byKind((u) => u.doRequestsByKindPerAgentHour),
    alarms_set_per_agent_hour_by_reason: byKind((u) => u.alarmsSetByReasonPerAgentHour),
    prices: WORKERS_PAID_PRICES,
    assumptions: {
      d1_rows_written:
        "the Worker's D1 meter (sum of meta.rows_written) over the measuring window, crons included; rows inserted when the meter is off",
      d1_rows_read_per_request: ASSUMED_D1_ROWS_READ_PER_REQUEST,
      worker_cpu_ms:
        "the Worker's invocations only: requests per agent-hour by route × that route's CPU per request, and each cron's runs per hour × its CPU per run / the agents it ran for; CPU per operation from cpu-by-operation.json (workerd's /proc CPU while driving one kind at a time, idle baseline subtracted; includes local D1's SQLite and, for routes that call an object, the object's share: an upper bound per operation)",
      worker_cpu_ms_upper_bound_per_agent_hour:
        'workerd CPU under wrangler dev over the whole usage window (Worker + Durable Objects + crons + local SQLite + idle runtime) per agent-hour: the old all-in figure, not billed as such',
      do_active_seconds:
        "each object request kind per agent-hour × the meter's time per request: RPC, the caller's round trip; socket messages and alarms, the handler's wall time (local workerd's clock runs while code runs, so CPU is included); idle objects hibernate and bill none; 128 MB",
      do_requests:
        'counted by the Worker (session/request-meter.ts): every RPC call incl. the engine cron, every alarm; socket messages that woke an object at 20:1; auto-answered pings not billed (see *_if_pings_billed)',
      fleet_sizes: 'the per-agent-hour usage of 50 agents of one client, projected; budgets scaled per agent',
    },
    bills,
  })
}

const results = readResults(RESULTS)
const table = summaryTable(results, machine, new Date())
writeBetweenMarkers(join(ROOT, 'docs', 'benchmarks.md'), table)
console.log(`\nareas: ${JSON.stringify(areas)}\n\n${table}`)
