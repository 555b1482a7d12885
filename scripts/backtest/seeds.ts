/**
 * npm run backtest:seeds -- [<from>-<to> | <seed>,...] [--params <json file | inline json>] [--days <n>]
 * The suite over many seeds, against its targets: on every trace `active` ≥ 95 % of the hindsight
 * optimum with 0 cap violations, and on `multi-type` at most 90 % of `legacy`'s cost. One line per
 * seed and trace; exits 1 when a target is missed. Writes nothing. Default seeds: 1-8.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { runSuite, type SuiteEntry } from '../../src/engine/backtest/suite'
import { resolveParams } from '../../src/engine/params'
import { suiteTraces } from './suite'

const MIN_SHARE = 0.95
const MAX_OF_LEGACY = 0.9

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { params: { type: 'string' }, days: { type: 'string', default: '30' } },
})

function seedsOf(arg = '1-8'): number[] {
  const range = /^(\d+)-(\d+)$/.exec(arg)
  if (range) {
    const [from, to] = [Number(range[1]), Number(range[2])]
    return Array.from({ length: to - from + 1 }, (_, i) => from + i)
  }
  return arg.split(',').map(Number)
}

/** What misses a target on one trace, empty when none. */
function misses(entry: SuiteEntry): string[] {
  const row = (name: string) => entry.strategies.find((s) => s.strategy === name)!
  const active = row('active')
  const out: string[] = []
  if (active.share_of_hindsight_optimum !== null && active.share_of_hindsight_optimum < MIN_SHARE)
    out.push(`share ${active.share_of_hindsight_optimum}`)
  if (active.cap_violations > 0) out.push(`${active.cap_violations} cap violations`)
  if (entry.trace === 'multi-type' && active.total_cost > MAX_OF_LEGACY * row('legacy').total_cost)
    out.push('above 90 % of legacy')
  return out
}

const arg = values.params
const params = resolveParams(
  arg ? JSON.parse(arg.trim().startsWith('{') ? arg : readFileSync(arg, 'utf8')) : {},
)
let missed = 0
for (const seed of seedsOf(positionals[0])) {
  for (const entry of runSuite(suiteTraces(seed, Number(values.days)), params)) {
    const row = (name: string) => entry.strategies.find((s) => s.strategy === name)!
    const share = row('active').share_of_hindsight_optimum
    const wrong = misses(entry)
    missed += wrong.length > 0 ? 1 : 0
    console.log(
      [
        `seed ${seed}`,
        entry.trace.padEnd(10),
        `active ${share === null ? '  n/a' : `${(share * 100).toFixed(1)} %`} of optimum`,
        `optimum saves ${row('optimum').savings_vs_ondemand_pct.toFixed(1)} %`,
        `${(row('active').total_cost / row('legacy').total_cost).toFixed(3)} × legacy`,
        `${row('active').switches} switches, ${row('active').interruptions_hit} interrupted`,
        wrong.length > 0 ? `MISSED: ${wrong.join(', ')}` : 'ok',
      ].join('  '),
    )
  }
}
console.log(missed === 0 ? 'every target met' : `${missed} trace(s) missed a target`)
process.exitCode = missed === 0 ? 0 : 1
