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
 * Each AZ's log price reverts (1/day) to its own level (25-40 % of on-demand) with ~5 % daily
 * volatility; jumps of +50-150 % for 1-6 h start with probability 1 %/h/AZ; two region-wide spikes a
 * month (×2-3 for 2-8 h, all AZs); prices never exceed on-demand, rounded to $0.0001 as AWS publishes.
 * Interruptions: hazard ∝ (price/on-demand)³, scaled to `interruptionsPerMonth` per AZ on average;
 * 70 % of them follow a rebalance recommendation by 5-30 minutes.
 */
export function generateTrace(options: Partial<TraceOptions> = {}): Trace {
  const o = { ...DEFAULT_TRACE, ...options }
  const rand = seededRandom(o.seed)
  const stepMs = o.stepMinutes * 60_000
  const steps = Math.round((o.days * 86_400_000) / stepMs)
  const dtDays = o.stepMinutes / 1440
  const stepsPerHour = 60 / o.stepMinutes
  const levels = o.azs.map(() => Math.log(between(rand, 0.25, 0.4) * o.onDemand))
  const spikes = Array.from({ length: Math.max(1, Math.round(o.days / 15)) }, () => {
    const at = Math.floor(rand() * steps)
    return { from: at, to: at + Math.round(between(rand, 2, 8) * stepsPerHour), factor: between(rand, 2, 3) }
  })
  const prices = levels.map((level) => {
    const series = new Float64Array(steps)
    let x = level
    let jumpUntil = -1
    let jumpFactor = 1
    for (let i = 0; i < steps; i++) {
      x += (level - x) * dtDays + 0.05 * Math.sqrt(dtDays) * gaussian(rand)
      if (rand() < 0.01 / stepsPerHour) {
        const factor = between(rand, 1.5, 2.5)
        jumpFactor = i < jumpUntil ? Math.max(jumpFactor, factor) : factor
        jumpUntil = Math.max(jumpUntil, i + Math.round(between(rand, 1, 6) * stepsPerHour))
      }
      let price = Math.exp(x) * (i < jumpUntil ? jumpFactor : 1)
      for (const s of spikes) if (i >= s.from && i < s.to) price *= s.factor
      series[i] = Math.round(Math.min(price, o.onDemand) * 10_000) / 10_000
    }
    return series
  })
  return {
    start: o.start,
    stepMs,
    steps,
    onDemand: o.onDemand,
    instanceType: o.instanceType,
    pools: o.azs.map((az) => ({ poolId: `${o.instanceType}.${az}`, az })),
    prices,
    events: interruptions(prices, o, rand, stepMs),
  }
}

function interruptions(
  prices: Float64Array[],
  o: TraceOptions,
  rand: () => number,
  stepMs: number,
): TraceEvent[] {
  let exposure = 0
  for (const series of prices) for (const p of series) exposure += (p / o.onDemand) ** 3
  const expected = o.interruptionsPerMonth * (o.days / 30) * prices.length
  const scale = exposure > 0 ? expected / exposure : 0
  const events: TraceEvent[] = []
  prices.forEach((series, k) => {
    const az = o.azs[k]!
    series.forEach((p, i) => {
      if (rand() >= scale * (p / o.onDemand) ** 3) return
      const at = o.start + i * stepMs + Math.floor(rand() * stepMs)
      events.push({ at, az, kind: 'interruption' })
      if (rand() < 0.7)
        events.push({ at: at - Math.round(between(rand, 5, 30) * 60_000), az, kind: 'rebalance' })
    })
  })
  return events.sort((a, b) => a.at - b.at)
}
