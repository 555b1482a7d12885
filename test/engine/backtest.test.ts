import { describe, expect, it } from 'vitest'
import {
  formatEventsFile,
  formatPriceFile,
  parseEventsFile,
  parsePriceFile,
  traceFromPrices,
} from '../../src/engine/backtest/files'
import { runBacktest } from '../../src/engine/backtest/report'
import {
  capViolations,
  ONDEMAND,
  simulate,
  startPool,
  type Strategy,
  type StepView,
} from '../../src/engine/backtest/simulate'
import { optimum, optimumPlan } from '../../src/engine/backtest/optimum'
import { activeStrategy } from '../../src/engine/backtest/strategies'
import type { Trace } from '../../src/engine/backtest/trace'
import { generateTrace } from '../../scripts/backtest/trace'
import { resolveParams } from '../../src/engine/params'

describe('backtest', () => {
  it('on a generated trace, the active parameters beat on-demand within the caps and near the optimum', () => {
    const report = runBacktest(generateTrace({ seed: 11, days: 14 }), resolveParams({}))
    const row = (name: string) => report.strategies.find((s) => s.strategy === name)!
    expect(report.strategies.map((s) => s.strategy)).toEqual([
      'active',
      'ondemand',
      'cheapest',
      'legacy',
      'optimum',
    ])
    expect(row('active').total_cost).toBeLessThan(row('ondemand').total_cost)
    expect(row('active').cap_violations).toBe(0)
    expect(row('optimum').cap_violations).toBe(0)
    expect(row('active').share_of_hindsight_optimum).toBeGreaterThanOrEqual(0.9)
    expect(row('optimum').total_cost).toBeLessThanOrEqual(row('legacy').total_cost)
  })

  it('keeps the optimum tractable and within the caps when the per-day cap is large', () => {
    const params = resolveParams({ max_switches_per_day: 24, max_switches_per_week: 168 })
    const report = runBacktest(generateTrace({ seed: 5, days: 7 }), params)
    const optimum = report.strategies.find((s) => s.strategy === 'optimum')!
    expect(report.caps).toEqual({ perDay: 24, perWeek: 168 })
    expect(optimum.cap_violations).toBe(0)
    expect(optimum.total_cost).toBeLessThan(
      report.strategies.find((s) => s.strategy === 'ondemand')!.total_cost,
    )
  })

  it('generates the same trace for the same seed, with about 5 interruptions per AZ a month', () => {
    const a = generateTrace()
    expect(generateTrace().prices[0]).toEqual(a.prices[0])
    expect(a.steps).toBe(30 * 288)
    const interruptions = a.events.filter((e) => e.kind === 'interruption').length
    expect(interruptions).toBeGreaterThan(5)
    expect(interruptions).toBeLessThan(30)
    for (const series of a.prices) for (const p of series) expect(p).toBeLessThanOrEqual(a.onDemand)
  })

  it('round-trips prices through the describe-spot-price-history text format and events through TSV', () => {
    const trace = generateTrace({ days: 2 })
    const back = traceFromPrices(
      parsePriceFile(formatPriceFile(trace)),
      trace.onDemand,
      parseEventsFile(formatEventsFile(trace.events)),
    )
    expect(back.steps).toBe(trace.steps)
    expect(back.prices).toEqual(trace.prices)
    expect(back.events).toEqual(trace.events)
  })

  it('reads AWS text output, preferring Linux/UNIX over the VPC product and ignoring other lines', () => {
    const text = [
      'SPOTPRICEHISTORY\tus-east-1b\tt3.medium\tLinux/UNIX (Amazon VPC)\t0.099000\t2026-01-01T00:00:00+00:00',
      'SPOTPRICEHISTORY\tus-east-1b\tt3.medium\tLinux/UNIX\t0.012500\t2026-01-01T00:00:00+00:00',
      'SPOTPRICEHISTORY\tus-east-1a\tt3.medium\tLinux/UNIX\t0.013100\t2026-01-01T00:07:10.000Z',
      'NEXTTOKEN\tabc',
      'SPOTPRICEHISTORY\tus-east-1b\tt3.medium\tLinux/UNIX\t0.014000\t2026-01-01T00:20:00+00:00',
    ].join('\n')
    const trace = traceFromPrices(parsePriceFile(text), 0.0416)
    expect(trace.pools.map((p) => p.poolId)).toEqual(['t3.medium.us-east-1a', 't3.medium.us-east-1b'])
    expect([...trace.prices[0]!]).toEqual([Number.NaN, Number.NaN, 0.0131, 0.0131, 0.0131])
    expect([...trace.prices[1]!]).toEqual([0.0125, 0.0125, 0.0125, 0.0125, 0.014])
    expect(() => parsePriceFile('SPOTPRICEHISTORY\tbroken')).toThrow(/line 1/)
  })

  it('counts a switch that breaks a rolling cap as a violation', () => {
    const h = 3_600_000
    expect(capViolations([0, h, 2 * h], { perDay: 3, perWeek: 10 })).toBe(0)
    expect(capViolations([0, h, 2 * h, 3 * h], { perDay: 3, perWeek: 10 })).toBe(1)
    expect(capViolations([0, h, 2 * h, 24 * h], { perDay: 3, perWeek: 10 })).toBe(0)
  })

  it('the engine goes back to spot at once after an interruption, the exit in what it sees; twice within 6 h it waits', () => {
    const h = 3_600_000
    const start = Date.UTC(2026, 0, 1)
    const interruptions = [2 * h + 60_000, 2 * h + 40 * 60_000]
    const trace: Trace = {
      start,
      stepMs: 5 * 60_000,
      steps: 12 * 12,
      instanceType: 't3.medium',
      onDemand: 0.0416,
      onDemandByType: { 't3.medium': 0.0416 },
      pools: ['us-east-1a', 'us-east-1b'].map((az) => ({
        poolId: `t3.medium.${az}`,
        az,
        instanceType: 't3.medium',
      })),
      prices: [new Float64Array(144).fill(0.012), new Float64Array(144).fill(0.0125)],
      events: [
        { at: start + interruptions[0]!, az: 'us-east-1a', kind: 'interruption' },
        { at: start + interruptions[1]!, az: 'us-east-1b', kind: 'interruption' },
      ],
    }
    const active = activeStrategy(trace, resolveParams({}))
    const seen: Array<{ view: StepView; target: number | null }> = []
    const spy: Strategy = {
      name: 'spy',
      decide: (view) => {
        const target = active.decide(view)
        seen.push({ view: { ...view, spotExits: [...view.spotExits] }, target })
        return target
      },
    }
    const run = simulate(trace, spy, { perDay: 3, perWeek: 10 })
    expect(run.interruptions_hit).toBe(2)
    const onDemand = seen.filter((s) => s.view.placement === ONDEMAND)
    // first exit: straight back to the other pool in the same step
    expect(onDemand[0]).toMatchObject({ target: 1 })
    expect(onDemand[0]!.view.spotExits).toEqual([start + interruptions[0]!])
    // second exit 39 minutes later: the flapping budget keeps it on on-demand until the first is 6 h old
    const back = onDemand.find((s) => s.view.now > start + interruptions[1]! && s.target !== null)!
    expect(back.view.now - start).toBeGreaterThanOrEqual(interruptions[0]! + 6 * h)
    expect(back.view.now - start).toBeLessThan(interruptions[0]! + 6 * h + 5 * 60_000)
    expect(run.switches).toBe(2)
  })

  it("replays the optimum's hourly plan at the optimum row's cost within the caps, and tells each step's engine decision", () => {
    const trace = generateTrace({ seed: 3, days: 4 })
    const caps = { perDay: 3, perWeek: 10 }
    const plan = optimumPlan(trace, caps, startPool(trace))
    expect(plan).toHaveLength(4 * 24)
    const replay: Strategy = {
      name: 'replay',
      decide: (v) => (v.step % 12 === 0 && plan[v.step / 12] !== v.placement ? plan[v.step / 12]! : null),
    }
    const run = simulate(trace, replay, caps)
    expect(run.cap_violations).toBe(0)
    expect(run.total_cost).toBeCloseTo(optimum(trace, caps, startPool(trace)).total_cost, 9)

    const decisions: Array<{ step: number; decision: string }> = []
    const active = activeStrategy(trace, resolveParams({}), (step, d) =>
      decisions.push({ step, decision: d.decision }),
    )
    const moved = simulate(trace, active, caps)
    expect(decisions.map((d) => d.step)).toEqual(Array.from({ length: trace.steps }, (_, i) => i))
    expect(decisions.filter((d) => d.decision !== 'stay')).toHaveLength(moved.switches)
  })
})
