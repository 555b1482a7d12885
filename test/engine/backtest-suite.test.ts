import { describe, expect, it } from 'vitest'
import { parseEventsFile, parsePriceFile, traceFromPrices } from '../../src/engine/backtest/files'
import { optimum } from '../../src/engine/backtest/optimum'
import { runBacktest, shareOfOptimum } from '../../src/engine/backtest/report'
import {
  capViolations,
  priceOf,
  simulate,
  startPool,
  type Caps,
  type Strategy,
} from '../../src/engine/backtest/simulate'
import { runSuite, type SuiteProgress } from '../../src/engine/backtest/suite'
import { resolveParams } from '../../src/engine/params'
import { MULTI_TYPES, multiTypeTrace, suiteTraces } from '../../scripts/backtest/suite'
import { generateTrace } from '../../scripts/backtest/trace'

/** 30-day-class backtests are seconds of CPU: on the shared 2-core machine they outlast vitest's 5 s default. */
const HEAVY = { timeout: 60_000 }

const meanPrice = (series: readonly Float64Array[]) =>
  series.reduce((sum, s) => sum + s.reduce((a, b) => a + b, 0), 0) / (series.length * series[0]!.length)

describe('backtest suite', () => {
  it('runs every strategy on five traces of different character, with progress', HEAVY, () => {
    const traces = suiteTraces(3, 1)
    expect(traces.map((t) => t.name)).toEqual(['calm', 'volatile', 'spikes', 'correlated', 'multi-type'])
    const seen: SuiteProgress['kind'][] = []
    const suite = runSuite(traces, resolveParams({}), (p) => seen.push(p.kind))
    expect(seen).toEqual(Array.from({ length: 5 }, () => ['start', 'done'] as const).flat())
    for (const entry of suite) {
      expect(entry.strategies.map((s) => s.strategy)).toEqual([
        'active',
        'ondemand',
        'cheapest',
        'legacy',
        'optimum',
      ])
      const row = (name: string) => entry.strategies.find((s) => s.strategy === name)!
      expect(row('optimum').cap_violations, entry.trace).toBe(0)
      expect(row('optimum').total_cost, entry.trace).toBeLessThan(row('ondemand').total_cost)
    }
    expect(suiteTraces(3, 1)[1]!.trace.prices).toEqual(traces[1]!.trace.prices)
    expect(suiteTraces(4, 1)[1]!.trace.prices).not.toEqual(traces[1]!.trace.prices)
  })

  it('has short spikes above on-demand in `spikes` and none in `calm`', () => {
    const [calm, , spikes] = suiteTraces(1, 30)
    const above = (t: typeof calm) =>
      t!.trace.prices.flatMap((s) => [...s]).filter((p) => p > t!.trace.onDemand)
    expect(above(calm)).toHaveLength(0)
    expect(above(spikes).length).toBeGreaterThan(0)
    // short: well under a tenth of the time
    expect(above(spikes).length).toBeLessThan(0.1 * spikes!.trace.steps * spikes!.trace.pools.length)
  })

  it('multi-type: 4 compatible types × 4 AZs, starting on the median type in its cheapest AZ at the start', () => {
    const trace = multiTypeTrace(5, 3)
    expect(trace.pools).toHaveLength(16)
    expect(new Set(trace.pools.map((p) => p.instanceType))).toEqual(new Set(MULTI_TYPES))
    const means = MULTI_TYPES.map((type) => ({
      type,
      mean: meanPrice(trace.prices.filter((_, k) => trace.pools[k]!.instanceType === type)),
    })).sort((a, b) => a.mean - b.mean)
    expect(trace.instanceType).toBe(means[1]!.type)
    expect(trace.onDemand).toBe(trace.onDemandByType[trace.instanceType])
    const start = startPool(trace)
    expect(trace.pools[start]!.instanceType).toBe(trace.instanceType)
    trace.pools.forEach((p, k) => {
      if (p.instanceType === trace.instanceType)
        expect(priceOf(trace, start, 0)).toBeLessThanOrEqual(priceOf(trace, k, 0))
    })
    // each interruption strikes one type in one AZ
    expect(trace.events.every((e) => e.instanceType !== undefined)).toBe(true)
  })

  it('multi-type: the engine leaves the starting type for a cheaper one; legacy cannot', HEAVY, () => {
    const report = runBacktest(multiTypeTrace(2, 10), resolveParams({}))
    const row = (name: string) => report.strategies.find((s) => s.strategy === name)!
    expect(report.trace.instance_type).toBe(multiTypeTrace(2, 10).instanceType)
    expect(row('active').cap_violations).toBe(0)
    expect(row('active').total_cost).toBeLessThan(0.9 * row('legacy').total_cost)
  })

  it(
    'reports the share of the optimum as (ondemand − strategy) / (ondemand − optimum), only from 20 % saved',
    HEAVY,
    () => {
      expect(shareOfOptimum(100, 40, 20)).toBeCloseTo(0.75, 10)
      expect(shareOfOptimum(100, 90, 80)).toBeCloseTo(0.5, 10)
      expect(shareOfOptimum(100, 95, 81)).toBeNull()
      expect(shareOfOptimum(0, 0, 0)).toBeNull()
      const report = runBacktest(generateTrace({ seed: 9, days: 5 }), resolveParams({}))
      const od = report.strategies.find((s) => s.strategy === 'ondemand')!.total_cost
      const best = report.strategies.find((s) => s.strategy === 'optimum')!.total_cost
      for (const r of report.strategies)
        expect(r.share_of_hindsight_optimum).toBeCloseTo((od - r.total_cost) / (od - best), 3)
    },
  )

  it('finds the cheapest hourly plan within the caps (checked against every plan of a short trace)', () => {
    const trace = generateTrace({
      seed: 21,
      days: 5 / 24,
      azs: ['us-east-1a', 'us-east-1b'],
      interruptionsPerMonth: 400,
      jumpsPerHour: 0.3,
    })
    const caps: Caps = { perDay: 2, perWeek: 3 }
    const hours = 5
    let cheapest = Number.POSITIVE_INFINITY
    for (let code = 0; code < 3 ** hours; code++) {
      const plan = Array.from({ length: hours }, (_, h) => (Math.floor(code / 3 ** h) % 3) - 1)
      const strategy: Strategy = {
        name: 'plan',
        initial: () => startPool(trace),
        decide: (v) => (v.step % 12 === 0 && plan[v.step / 12] !== v.placement ? plan[v.step / 12]! : null),
      }
      const run = simulate(trace, strategy, caps)
      if (capViolations(run.switchTimes, caps) === 0) cheapest = Math.min(cheapest, run.total_cost)
    }
    const best = optimum(trace, caps, startPool(trace))
    expect(best.cap_violations).toBe(0)
    expect(best.total_cost).toBeCloseTo(cheapest, 10)
  })

  it('reads a price file of several types: the compatible ones become pools, events name their type', () => {
    const line = (az: string, type: string, price: number, time: string) =>
      ['SPOTPRICEHISTORY', az, type, 'Linux/UNIX', price.toFixed(6), time].join('\t')
    const text = [
      line('us-east-1a', 'm5.large', 0.04, '2026-01-01T00:00:00+00:00'),
      line('us-east-1b', 'm6a.large', 0.03, '2026-01-01T00:00:00+00:00'),
      line('us-east-1a', 'm6g.large', 0.02, '2026-01-01T00:00:00+00:00'),
      line('us-east-1a', 'c5.large', 0.02, '2026-01-01T00:00:00+00:00'),
      line('us-east-1a', 'm5.large', 0.05, '2026-01-01T00:10:00+00:00'),
    ].join('\n')
    const events = parseEventsFile(
      [
        'interruption\tus-east-1b\t2026-01-01T00:05:00Z\tm6a.large',
        'interruption\tus-east-1b\t2026-01-01T00:06:00Z',
        'interruption\tus-east-1a\t2026-01-01T00:07:00Z',
      ].join('\n'),
    )
    const trace = traceFromPrices(parsePriceFile(text), 0.096, events)
    expect(trace.instanceType).toBe('m5.large')
    expect(trace.pools.map((p) => p.poolId)).toEqual(['m5.large.us-east-1a', 'm6a.large.us-east-1b'])
    expect(trace.onDemandByType).toEqual({ 'm5.large': 0.096, 'm6a.large': 0.0864 })
    expect([...trace.prices[0]!]).toEqual([0.04, 0.04, 0.05])
    // the untyped event in us-east-1b is of m5.large, which has no pool there
    expect(trace.events.map((e) => e.at)).toEqual([
      Date.parse('2026-01-01T00:05:00Z'),
      Date.parse('2026-01-01T00:07:00Z'),
    ])
    const started = traceFromPrices(parsePriceFile(text), 0.0864, [], 300_000, {
      instanceType: 'm6a.large',
    })
    expect(started.pools.map((p) => p.instanceType)).toEqual(['m6a.large'])
  })
})
