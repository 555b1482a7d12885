/** The generator of realistic price traces (the CLI's default input and the tests'). */
import type { Trace, TraceEvent } from '../../src/engine/backtest/trace'

export interface TraceOptions {
  seed: number
  days: number
  stepMinutes: number
  azs: string[]
  instanceType: string
  onDemand: number
  start: number
  /** Expected interruptions per AZ per 30 days. */
  interruptionsPerMonth: number
  /** Each AZ's price level, a share of on-demand drawn uniformly in [lo, hi]. */
  levels: [number, number]
  /** Daily volatility of the log price (0.05: about 5 %). */
  dailyVolatility: number
  /** Chance per hour per AZ of a jump (+50-150 % for 1-6 h). */
  jumpsPerHour: number
  /** Region-wide spikes (all AZs ×2-3 for 2-8 h) per 30 days. */
  spikesPerMonth: number
  /** Mean days between regime changes, when an AZ's level is drawn again (0: one regime). */
  regimeDays: number
  /** Short spikes above on-demand per AZ per 30 days (1.2-3 × on-demand for 15 min-2 h). */
  aboveOnDemandPerMonth: number
  /** Interruption hazard × (1 + riseWeight × the price's rise over the last hour): 0 = the level alone. */
  riseWeight: number
}

/** The default trace of the README: seed 42, 30 days at 5-minute steps, 3 AZs, t3.medium at $0.0416/h. */
export const DEFAULT_TRACE: TraceOptions = {
  seed: 42,
  days: 30,
  stepMinutes: 5,
  azs: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
  instanceType: 't3.medium',
  onDemand: 0.0416,
  start: Date.UTC(2026, 0, 1),
  interruptionsPerMonth: 5,
  levels: [0.25, 0.4],
  dailyVolatility: 0.05,
  jumpsPerHour: 0.01,
  spikesPerMonth: 2,
  regimeDays: 0,
  aboveOnDemandPerMonth: 0,
  riseWeight: 0,
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
}

const between = (rand: () => number, lo: number, hi: number) => lo + (hi - lo) * rand()

/**
 * Each AZ's log price reverts (1/day) to its own level (by default 25-40 % of on-demand) with ~5 %
 * daily volatility; jumps of +50-150 % for 1-6 h start with probability 1 %/h/AZ; two region-wide spikes
 * a month (×2-3 for 2-8 h, all AZs); prices never exceed on-demand (but in the short spikes above it,
 * when asked), rounded to $0.0001 as AWS publishes. Interruptions: hazard ∝ (price/on-demand)³ (× the
 * last hour's rise when asked), scaled to `interruptionsPerMonth` per AZ on average; 70 % of them follow
 * a rebalance recommendation by 5-30 minutes. A feature left at 0 draws no random number, so the
 * default trace stays what it was before the features existed.
 */
export function generateTrace(options: Partial<TraceOptions> = {}): Trace {
  const o = { ...DEFAULT_TRACE, ...options }
  const rand = seededRandom(o.seed)
  const stepMs = o.stepMinutes * 60_000
  const steps = Math.round((o.days * 86_400_000) / stepMs)
  const dtDays = o.stepMinutes / 1440
  const stepsPerHour = 60 / o.stepMinutes
  const drawLevel = () => Math.log(between(rand, o.levels[0], o.levels[1]) * o.onDemand)
  const levels = o.azs.map(drawLevel)
  const spikeCount = o.spikesPerMonth > 0 ? Math.max(1, Math.round((o.spikesPerMonth * o.days) / 30)) : 0
  const spikes = Array.from({ length: spikeCount }, () => {
    const at = Math.floor(rand() * steps)
    return { from: at, to: at + Math.round(between(rand, 2, 8) * stepsPerHour), factor: between(rand, 2, 3) }
  })
  const prices = levels.map((first) => {
    const series = new Float64Array(steps)
    let level = first
    let x = level
    let jumpUntil = -1
    let jumpFactor = 1
    let aboveUntil = -1
    let aboveFactor = 1
    for (let i = 0; i < steps; i++) {
      if (o.regimeDays > 0 && rand() < dtDays / o.regimeDays) level = drawLevel()
      x += (level - x) * dtDays + o.dailyVolatility * Math.sqrt(dtDays) * gaussian(rand)
      if (rand() < o.jumpsPerHour / stepsPerHour) {
        const factor = between(rand, 1.5, 2.5)
        jumpFactor = i < jumpUntil ? Math.max(jumpFactor, factor) : factor
        jumpUntil = Math.max(jumpUntil, i + Math.round(between(rand, 1, 6) * stepsPerHour))
      }
      if (o.aboveOnDemandPerMonth > 0 && rand() < (o.aboveOnDemandPerMonth * dtDays) / 30) {
        aboveFactor = between(rand, 1.2, 3)
        aboveUntil = i + Math.max(1, Math.round(between(rand, 0.25, 2) * stepsPerHour))
      }
      let price = Math.exp(x) * (i < jumpUntil ? jumpFactor : 1)
      for (const s of spikes) if (i >= s.from && i < s.to) price *= s.factor
      price = i < aboveUntil ? Math.max(price, aboveFactor * o.onDemand) : Math.min(price, o.onDemand)
      series[i] = Math.round(price * 10_000) / 10_000
    }
    return series
  })
  return {
    start: o.start,
    stepMs,
    steps,
    onDemand: o.onDemand,
    instanceType: o.instanceType,
    onDemandByType: { [o.instanceType]: o.onDemand },
    pools: o.azs.map((az) => ({ poolId: `${o.instanceType}.${az}`, az, instanceType: o.instanceType })),
    prices,
    events: interruptions(prices, o, rand, stepMs),
  }
}

/** Interruptions and rebalances per AZ; their hazard follows the price (see generateTrace). */
function interruptions(
  prices: Float64Array[],
  o: TraceOptions,
  rand: () => number,
  stepMs: number,
): TraceEvent[] {
  const hour = Math.round(3_600_000 / stepMs)
  const hazard = (series: Float64Array, i: number) => {
    const level = (series[i]! / o.onDemand) ** 3
    if (o.riseWeight === 0) return level
    const before = series[Math.max(0, i - hour)]!
    return level * (1 + o.riseWeight * Math.max(0, series[i]! / before - 1))
  }
  let exposure = 0
  for (const series of prices) for (let i = 0; i < series.length; i++) exposure += hazard(series, i)
  const expected = o.interruptionsPerMonth * (o.days / 30) * prices.length
  const scale = exposure > 0 ? expected / exposure : 0
  const events: TraceEvent[] = []
  prices.forEach((series, k) => {
    const az = o.azs[k]!
    series.forEach((_, i) => {
      if (rand() >= scale * hazard(series, i)) return
      const at = o.start + i * stepMs + Math.floor(rand() * stepMs)
      events.push({ at, az, kind: 'interruption' })
      if (rand() < 0.7)
        events.push({ at: at - Math.round(between(rand, 5, 30) * 60_000), az, kind: 'rebalance' })
    })
  })
  return events.sort((a, b) => a.at - b.at)
}
