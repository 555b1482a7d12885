/**
 * npm run backtest -- [<price file>...] [--suite] [--seed <S>] [--params <json file | inline json>]
 *                     [--on-demand <usd/h> | <type=usd/h,...>] [--instance-type <type>] [--allowed-types <t,...>]
 *                     [--events <file>] [--out <json>] [--write-trace <dir>]
 * Without a price file: the default generated trace (seed 42, 30 days). With --suite, also the suite's
 * generated traces of seed S (default 1) and every price file given. Formats: docs/engine.md "Backtest".
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { resolveParams } from '../src/engine/params'
import {
  formatEventsFile,
  formatPriceFile,
  parseEventsFile,
  parsePriceFile,
  traceFromPrices,
} from '../src/engine/backtest/files'
import { formatTable, runBacktest, type BacktestReport } from '../src/engine/backtest/report'
import { runSuite, type NamedTrace, type SuiteProgress } from '../src/engine/backtest/suite'
import type { Trace } from '../src/engine/backtest/trace'
import { suiteTraces } from './backtest/suite'
import { generateTrace } from './backtest/trace'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    suite: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    params: { type: 'string' },
    'on-demand': { type: 'string' },
    'instance-type': { type: 'string' },
    'allowed-types': { type: 'string' },
    events: { type: 'string' },
    out: { type: 'string', default: 'bench/results/backtest.json' },
    'write-trace': { type: 'string' },
  },
})

function readParams(arg: string | undefined) {
  if (!arg) return resolveParams({})
  return resolveParams(JSON.parse(arg.trim().startsWith('{') ? arg : readFileSync(arg, 'utf8')))
}

/** `--on-demand 0.096` (the starting type's) or `--on-demand m5.large=0.096,m6a.large=0.0864`. */
function onDemandPrices(arg: string | undefined): { single?: number; byType: Record<string, number> } {
  if (!arg) return { byType: {} }
  if (!arg.includes('=')) return { single: Number(arg), byType: {} }
  const byType = Object.fromEntries(
    arg.split(',').map((pair) => {
      const [type, price] = pair.split('=')
      if (!type || !(Number(price) > 0)) throw new Error(`--on-demand: "${pair}" is not <type>=<usd/h>`)
      return [type, Number(price)]
    }),
  )
  return { byType }
}

function fileTrace(file: string, withEvents: boolean): Trace {
  const rows = parsePriceFile(readFileSync(file, 'utf8'))
  const type = values['instance-type'] ?? rows[0]?.instanceType ?? ''
  const prices = onDemandPrices(values['on-demand'])
  const onDemand = prices.single ?? prices.byType[type] ?? Number.NaN
  if (!(onDemand > 0))
    throw new Error(`a price file needs --on-demand: the on-demand price (usd/h) of ${type || 'its type'}`)
  const events = withEvents && values.events ? parseEventsFile(readFileSync(values.events, 'utf8')) : []
  return traceFromPrices(rows, onDemand, events, 300_000, {
    instanceType: type,
    onDemandByType: prices.byType,
    ...(values['allowed-types'] ? { allowedTypes: values['allowed-types'].split(',') } : {}),
  })
}

/** The default generated trace; --events replaces its events when no price file takes them. */
function defaultTrace(): Trace {
  const trace = generateTrace()
  if (values.events && positionals.length === 0)
    trace.events = parseEventsFile(readFileSync(values.events, 'utf8'))
  return trace
}

function describe(trace: Trace): string {
  const types = new Set(trace.pools.map((p) => p.instanceType)).size
  const days = (trace.steps * trace.stepMs) / 86_400_000
  return `${trace.pools.length} pools (${types} type${types > 1 ? 's' : ''}), starting on ${trace.instanceType}, ${days.toFixed(1)} days`
}

function printReport(trace: Trace, report: BacktestReport) {
  console.log(
    `${report.trace.start} → ${report.trace.end}, ${report.trace.pools.join(', ')}, on-demand $${trace.onDemand}/h`,
  )
  console.log(
    `caps: ${report.caps.perDay}/24 h, ${report.caps.perWeek}/7 d; ${report.trace.interruptions} interruptions in the fleet`,
  )
  console.log(formatTable(report.strategies))
}

/** A progress line per trace while the suite runs (each takes seconds). */
function progressLine(started: Map<number, number>) {
  return (p: SuiteProgress) => {
    const at = `[${p.index + 1}/${p.total}] ${p.name}`
    if (p.kind === 'start') {
      started.set(p.index, performance.now())
      console.log(`${at}: ${describe(p.trace)} ...`)
      return
    }
    const seconds = (performance.now() - started.get(p.index)!) / 1000
    const row = (name: string) => p.report.strategies.find((s) => s.strategy === name)!
    const share = row('active').share_of_hindsight_optimum
    console.log(
      `${at}: active ${share === null ? '(optimum saves < 20 %)' : `${(share * 100).toFixed(1)} % of the optimum`}, ` +
        `${row('active').cap_violations} cap violations, ${(row('active').total_cost / row('legacy').total_cost).toFixed(3)} × legacy ` +
        `(${seconds.toFixed(1)} s)`,
    )
  }
}

const params = readParams(values.params)
const main = positionals[0] && !values.suite ? fileTrace(positionals[0], true) : defaultTrace()
if (values['write-trace']) {
  mkdirSync(values['write-trace'], { recursive: true })
  writeFileSync(join(values['write-trace'], 'prices.txt'), formatPriceFile(main))
  writeFileSync(join(values['write-trace'], 'events.tsv'), formatEventsFile(main.events))
}
const report = runBacktest(main, params)
printReport(main, report)
let result: object = report
if (values.suite) {
  const seed = Number(values.seed)
  if (!Number.isInteger(seed)) throw new Error('--seed needs an integer')
  const traces: NamedTrace[] = [
    ...suiteTraces(seed),
    ...positionals.map((file, i) => ({ name: basename(file), trace: fileTrace(file, i === 0) })),
  ]
  console.log(`\nsuite, seed ${seed}: ${traces.map((t) => t.name).join(', ')}`)
  const suite = runSuite(traces, params, progressLine(new Map()))
  for (const entry of suite) {
    console.log(`\n${entry.trace}`)
    console.log(formatTable(entry.strategies))
  }
  result = { ...report, seed, suite }
}
mkdirSync(dirname(values.out!), { recursive: true })
writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n')
