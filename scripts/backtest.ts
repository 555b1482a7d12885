/**
 * npm run backtest -- [<price file>] [--params <json file | inline json>] [--on-demand <usd/h>]
 *                     [--events <file>] [--out <json>] [--write-trace <dir>]
 * Without a price file: the default generated trace (seed 42, 30 days). Formats: README "Backtest".
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { resolveParams } from '../src/engine/params'
import {
  formatEventsFile,
  formatPriceFile,
  parseEventsFile,
  parsePriceFile,
  traceFromPrices,
} from '../src/engine/backtest/files'
import { formatTable, runBacktest } from '../src/engine/backtest/report'
import { generateTrace } from './backtest/trace'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    params: { type: 'string' },
    'on-demand': { type: 'string' },
    events: { type: 'string' },
    out: { type: 'string', default: 'bench/results/backtest.json' },
    'write-trace': { type: 'string' },
  },
})

function readParams(arg: string | undefined) {
  if (!arg) return resolveParams({})
  return resolveParams(JSON.parse(arg.trim().startsWith('{') ? arg : readFileSync(arg, 'utf8')))
}

function loadTrace() {
  const file = positionals[0]
  const events = values.events ? parseEventsFile(readFileSync(values.events, 'utf8')) : []
  if (!file) {
    const trace = generateTrace()
    if (values.events) trace.events = events
    return trace
  }
  const onDemand = Number(values['on-demand'])
  if (!(onDemand > 0))
    throw new Error('a price file needs --on-demand <usd/h> (the on-demand price of its instance type)')
  return traceFromPrices(parsePriceFile(readFileSync(file, 'utf8')), onDemand, events)
}

const trace = loadTrace()
if (values['write-trace']) {
  mkdirSync(values['write-trace'], { recursive: true })
  writeFileSync(join(values['write-trace'], 'prices.txt'), formatPriceFile(trace))
  writeFileSync(join(values['write-trace'], 'events.tsv'), formatEventsFile(trace.events))
}
const report = runBacktest(trace, readParams(values.params))
console.log(
  `${report.trace.start} → ${report.trace.end}, ${report.trace.pools.join(', ')}, on-demand $${trace.onDemand}/h`,
)
console.log(
  `caps: ${report.caps.perDay}/24 h, ${report.caps.perWeek}/7 d; ${report.trace.interruptions} interruptions in the fleet`,
)
console.log(formatTable(report))
mkdirSync(dirname(values.out!), { recursive: true })
writeFileSync(values.out!, JSON.stringify(report, null, 2) + '\n')
