/** The strategies the backtest compares: the engine (`active`) and the references. */
import { decide } from '../decide'
import { effectiveThresholds, type EngineParams } from '../params'
import { rebalancesFollowed, relaunchedLifetimes } from '../stats'
import type { Decision, EngineInput, PoolQuote } from '../types'
import { cheapestAt, ONDEMAND, priceOf, startPool, type Strategy } from './simulate'
import { eventInPool, type Trace } from './trace'

/** Always on-demand: the baseline. */
export const onDemandStrategy: Strategy = { name: 'ondemand', initial: () => ONDEMAND, decide: () => null }

/** The cheapest placement at every step, switching freely (no caps). */
export const cheapestStrategy: Strategy = {
  name: 'cheapest',
  decide: (v) => {
    const best = cheapestAt(v.trace, v.step)
    return best === v.placement ? null : best
  },
}

/**
 * The replaced system's three rules, in its one pool (the starting one, so never another type):
 * spot/on-demand above 0.8 → go on-demand; savings above 30 % and not on spot → go spot; else stay.
 */
export function legacyStrategy(trace: Trace): Strategy {
  const pool = startPool(trace)
  return {
    name: 'legacy',
    initial: () => pool,
    decide: (v) => {
      if (pool === ONDEMAND) return null
      const ratio = priceOf(v.trace, pool, v.step) / v.trace.onDemand
      if (v.placement !== ONDEMAND && ratio > 0.8) return ONDEMAND
      if (v.placement === ONDEMAND && 1 - ratio > 0.3) return pool
      return null
    },
  }
}

/**
 * Per pool and step: 24 h coefficient of variation and mean, 1 h relative change of the price, and the
 * mean of each of the last 24 hours up to the step (null where the pool had no price).
 */
function marketStats(trace: Trace) {
  const day = Math.round(86_400_000 / trace.stepMs)
  const hour = Math.round(3_600_000 / trace.stepMs)
  return trace.prices.map((series) => {
    const sums = new Float64Array(trace.steps + 1)
    const priced = new Int32Array(trace.steps + 1)
    for (let i = 0; i < trace.steps; i++) {
      const known = !Number.isNaN(series[i]!)
      sums[i + 1] = sums[i]! + (known ? series[i]! : 0)
      priced[i + 1] = priced[i]! + (known ? 1 : 0)
    }
    const hourly24h = (step: number): Array<number | null> =>
      Array.from({ length: 24 }, (_, k) => {
        const end = Math.max(0, step + 1 - (23 - k) * hour)
        const begin = Math.max(0, end - hour)
        const n = priced[end]! - priced[begin]!
        return n > 0 ? (sums[end]! - sums[begin]!) / n : null
      })
    const volatility = new Float64Array(trace.steps)
    const mean24h = new Float64Array(trace.steps)
    const trend = new Float64Array(trace.steps)
    let sum = 0
    let sumSq = 0
    let n = 0
    for (let i = 0; i < trace.steps; i++) {
      const add = series[i]!
      if (!Number.isNaN(add)) [sum, sumSq, n] = [sum + add, sumSq + add * add, n + 1]
      const drop = i >= day ? series[i - day]! : Number.NaN
      if (!Number.isNaN(drop)) [sum, sumSq, n] = [sum - drop, sumSq - drop * drop, n - 1]
      const mean = n > 0 ? sum / n : 0
      mean24h[i] = mean
      volatility[i] = mean > 0 ? Math.sqrt(Math.max(0, sumSq / n - mean * mean)) / mean : 0
      const before = series[Math.max(0, i - hour)]!
      trend[i] = before > 0 && add > 0 ? add / before - 1 : 0
    }
    return { volatility, mean24h, trend, hourly24h }
  })
}

/**
 * The decision engine with the given parameters, fed what the Worker's runner would know: every pool
 * of the trace per (type, AZ), the workload's base type being the one it starts on. `onDecision` sees
 * each step's decision (why it moved or stayed: scripts/backtest/path.ts).
 */
export function activeStrategy(
  trace: Trace,
  params: EngineParams,
  onDecision: (step: number, decision: Decision) => void = () => {},
): Strategy {
  const stats = marketStats(trace)
  const thresholds = effectiveThresholds(params)
  const monthMs = 30 * 86_400_000
  const poolEvents = trace.pools.map((_, k) => trace.events.filter((e) => eventInPool(trace, e, k)))
  return {
    name: 'active',
    decide: (v) => {
      const pools: PoolQuote[] = []
      trace.pools.forEach((pool, k) => {
        const price = priceOf(trace, k, v.step)
        if (Number.isNaN(price)) return
        const seen = poolEvents[k]!.filter((e) => e.at <= v.now && e.at > v.now - monthMs)
        const interruptions = seen.filter((e) => e.kind === 'interruption')
        pools.push({
          poolId: pool.poolId,
          az: pool.az,
          instanceType: pool.instanceType,
          onDemandPrice: trace.onDemandByType[pool.instanceType] ?? trace.onDemand,
          price,
          seenAt: v.now,
          volatility24h: stats[k]!.volatility[v.step]!,
          mean24h: stats[k]!.mean24h[v.step]!,
          trend1h: stats[k]!.trend[v.step]!,
          hourly24h: stats[k]!.hourly24h(v.step),
          interruptions30d: interruptions.length,
          rebalances30d: seen.length - interruptions.length,
          rebalancesFollowed30d: rebalancesFollowed(
            seen.map((e) => ({
              kind: e.kind === 'rebalance' ? 'rebalance' : 'notice',
              at: e.at,
              key: pool.poolId,
            })),
          ),
          ...relaunchedLifetimes(
            interruptions.map((e) => e.at),
            Math.max(trace.start, v.now - monthMs),
            v.now,
          ),
          lastInterruptionAt: interruptions.at(-1)?.at ?? null,
          lastCapacityErrorAt: null,
        })
      })
      const input: EngineInput = {
        now: v.now,
        agent: { enabled: true, online: true, commandInFlight: false },
        current: {
          mode: v.placement === ONDEMAND ? 'ondemand' : 'spot',
          poolId: v.placement === ONDEMAND ? null : trace.pools[v.placement]!.poolId,
          since: v.since,
          imposed: v.imposed,
        },
        onDemandPrice: trace.onDemand,
        pools,
        workload: { baseType: trace.instanceType, allowedTypes: trace.allowedTypes ?? null },
        switchTimes: [...v.switchTimes],
        spotExits: v.spotExits.filter((t) => t > v.now - 7 * 86_400_000),
        thresholds,
      }
      const d = decide(input, params)
      onDecision(v.step, d)
      if (d.decision === 'stay' || !d.target) return null
      if (d.target.mode === 'ondemand') return ONDEMAND
      return trace.pools.findIndex((p) => p.poolId === d.target?.poolId)
    },
  }
}
