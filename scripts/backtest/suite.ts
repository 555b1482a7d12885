/**
 * The backtest suite's generated traces, all from one seed: markets of different character, so the
 * engine is tuned on none of them alone. Designed before the engine was run on them; the engine is
 * tuned, never these.
 */
import type { NamedTrace } from '../../src/engine/backtest/suite'
import type { Trace } from '../../src/engine/backtest/trace'
import { instanceTypeSpec } from '../../src/engine/instance-types'
import { DEFAULT_TRACE, generateTrace, seededRandom, type TraceOptions } from './trace'

const AZS_3 = ['us-east-1a', 'us-east-1b', 'us-east-1c']
const AZS_4 = [...AZS_3, 'us-east-1d']

/** Options for one type at its shipped us-east-1 on-demand price. */
function ofType(instanceType: string, azs: string[]): Partial<TraceOptions> {
  return { instanceType, azs, onDemand: instanceTypeSpec(instanceType)!.onDemandUsEast1 }
}

/** Each trace's own seed from the suite's, so traces differ yet one seed fixes them all. */
const seedOf = (seed: number, index: number) => (seed * 7919 + index * 104_729) >>> 0

/** The single-type characters: options over DEFAULT_TRACE. */
export const CHARACTERS: Record<string, Partial<TraceOptions>> = {
  /** Prices near their levels, rare jumps, no region-wide spike, few interruptions. */
  calm: {
    ...ofType('t3.medium', AZS_3),
    levels: [0.28, 0.36],
    dailyVolatility: 0.02,
    jumpsPerHour: 0.002,
    spikesPerMonth: 0,
    interruptionsPerMonth: 2,
  },
  /** Regimes: every ~2 days an AZ's level moves anywhere in 20-60 % of on-demand; high volatility. */
  volatile: {
    ...ofType('m5.large', AZS_4),
    levels: [0.2, 0.6],
    regimeDays: 2,
    dailyVolatility: 0.25,
    jumpsPerHour: 0.02,
    spikesPerMonth: 4,
    interruptionsPerMonth: 8,
  },
  /** Short spikes above on-demand (1.2-3×, 15 min-2 h), about 6 per AZ a month. */
  spikes: {
    ...ofType('c5.large', AZS_3),
    aboveOnDemandPerMonth: 6,
    interruptionsPerMonth: 6,
  },
  /** Interruptions follow price rises: hazard × (1 + 30 × the last hour's rise), 12 per AZ a month. */
  correlated: {
    ...ofType('r5.large', AZS_3),
    jumpsPerHour: 0.02,
    riseWeight: 30,
    interruptionsPerMonth: 12,
  },
}

/**
 * The four types of `multi-type`, all 2 vCPUs and 8 GiB on x86_64. The default rule takes only the same
 * or a newer generation, so a workload starting on m6i or m6a would refuse m5 and m5a: the trace
 * carries them as the workload's allow-list (a client who listed its four types), so all four are
 * candidates whichever type it starts on, as for every other strategy.
 */
export const MULTI_TYPES = ['m5.large', 'm5a.large', 'm6i.large', 'm6a.large']

/**
 * `multi-type`: 4 compatible types × 4 AZs. The types' levels (share of their own on-demand) are a
 * base of 25-30 % times 1, 1.1-1.2, 1.25-1.35 and 1.4-1.55, shuffled over the types (they often
 * differ by 10-40 % on spot); each type's AZs spread ±15 % around its level and move as the default
 * trace does, with their own interruptions. The workload starts on the type whose mean price is the
 * median of the four (the cheaper middle one), in its cheapest AZ at the start.
 */
export function multiTypeTrace(seed: number, days = DEFAULT_TRACE.days): Trace {
  const rand = seededRandom(seed)
  const base = 0.25 + 0.05 * rand()
  const factors = [1, 1.1 + 0.1 * rand(), 1.25 + 0.1 * rand(), 1.4 + 0.15 * rand()]
  for (let i = factors.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[factors[i], factors[j]] = [factors[j]!, factors[i]!]
  }
  const parts = MULTI_TYPES.map((type, t) => {
    const level = base * factors[t]!
    return generateTrace({
      ...ofType(type, AZS_4),
      seed: seedOf(seed, 100 + t),
      days,
      levels: [level * 0.85, level * 1.15],
    })
  })
  const mean = (trace: Trace) => {
    let sum = 0
    for (const series of trace.prices) for (const p of series) sum += p
    return sum / (trace.prices.length * trace.steps)
  }
  const byMean = [...parts].sort((a, b) => mean(a) - mean(b))
  const start = byMean[1]!
  return {
    start: start.start,
    stepMs: start.stepMs,
    steps: start.steps,
    instanceType: start.instanceType,
    onDemand: start.onDemand,
    onDemandByType: Object.fromEntries(parts.map((p) => [p.instanceType, p.onDemand])),
    allowedTypes: MULTI_TYPES,
    pools: parts.flatMap((p) => p.pools),
    prices: parts.flatMap((p) => p.prices),
    events: parts
      .flatMap((p) => p.events.map((e) => ({ ...e, instanceType: p.instanceType })))
      .sort((a, b) => a.at - b.at),
  }
}

/** The suite's traces for a seed: each single-type character, then `multi-type`. */
export function suiteTraces(seed: number, days = DEFAULT_TRACE.days): NamedTrace[] {
  const single = Object.entries(CHARACTERS).map(([name, options], index) => ({
    name,
    trace: generateTrace({ ...options, seed: seedOf(seed, index), days }),
  }))
  return [...single, { name: 'multi-type', trace: multiTypeTrace(seedOf(seed, 99), days) }]
}
