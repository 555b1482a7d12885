/**
 * The decision engine: one pure function from what is known of an agent and its market to a decision.
 * Candidates are the fresh, safe-enough pools other than the current one, of any instance type the
 * workload may run on (compatibility.ts) and, for a stateful one, in its own AZ, plus on-demand when on spot; the best by risk-adjusted value
 * wins; guardrails then decide whether it may be acted on now.
 */
import { backToSpotReasons, hasLeftSpot } from './back-to-spot'
import { typeExclusion, type Workload } from './compatibility'
import { describeGap, gapHours } from './gap-persistence'
import { comfortBlocks, hardBlocks, reserveSpentWords } from './guardrails'
import type { EngineParams } from './params'
import { capacityEvidence, describeCapacity, SHORT_OF_CAPACITY } from './capacity'
import { describeLifetime, poolRisk } from './risk'
import type { BlockReason, Decision, DecisionKind, EngineInput, PoolQuote, ReasonCode, Target } from './types'
import { expectedPrice, moveValue, type Candidate } from './value'

const usd = (x: number) => `$${x.toFixed(4)}/h`
const round = (x: number, digits = 6) => Math.round(x * 10 ** digits) / 10 ** digits

function stay(reasons: string[], blocked_by: BlockReason[] = [], target: Candidate | null = null): Decision {
  return {
    decision: 'stay',
    target: target?.placement ?? null,
    expected_savings_per_hour: 0,
    risk: target ? round(target.risk, 4) : 0,
    confidence: 0,
    urgent: false,
    reason_code: null,
    reasons,
    blocked_by,
  }
}

/** The lifetime evidence behind the risks compared (pools without data say nothing). */
function lifetimeReasons(compared: ReadonlyArray<Candidate | null>): string[] {
  const quotes = compared.flatMap((c) => (c?.quote ? [c.quote] : []))
  return [...new Map(quotes.map((q) => [q.poolId, q])).values()].flatMap((q) => {
    const words = describeLifetime(q)
    return words ? [`pool ${q.poolId}: ${words}`] : []
  })
}

/** The capacity evidence of every pool short of capacity, candidates or not (a trap is named as such). */
function capacityReasons(pools: readonly PoolQuote[]): string[] {
  return pools.flatMap((q) => {
    const short = (capacityEvidence(q)?.value ?? 0) >= SHORT_OF_CAPACITY
    const words = short ? describeCapacity(q) : null
    return words ? [`pool ${q.poolId}: ${words}`] : []
  })
}

/** A spot placement in `pool`; a quote that names its type gets a target naming its type and AZ. */
function spotTarget(pool: PoolQuote): Target {
  const target: Target = { mode: 'spot', poolId: pool.poolId }
  return pool.instanceType ? { ...target, instanceType: pool.instanceType, az: pool.az } : target
}

/** Why a target of another instance type than the current one may run the workload. */
function typeReasons(best: Candidate, here: Candidate, workload: Workload | undefined): string[] {
  const to = best.quote?.instanceType
  const from = here.quote?.instanceType ?? workload?.baseType
  if (!workload || !to || !from || to === from) return []
  const rule = workload.allowedTypes ? 'on the allow-list' : `compatible with ${workload.baseType}`
  return [`instance type ${to} instead of ${from} (${rule})`]
}

/** How long the gap of a non-urgent move between pools lasted, and whether it spends the week's reserve. */
function moveReasons(
  input: EngineInput,
  params: EngineParams,
  best: Candidate,
  here: Candidate,
  savingsPercent: number,
): string[] {
  const gap = best.quote && here.quote ? gapHours(best.quote, here.quote) : null
  const reserve = reserveSpentWords(input, params, savingsPercent)
  return [
    ...(gap && best.quote && here.quote ? [describeGap(gap, best.quote, here.quote)] : []),
    ...(reserve ? [reserve] : []),
  ]
}

/** Whether a pool may be a candidate now, or why not (a pool without a type is of the workload's). */
export function poolExclusion(
  pool: PoolQuote,
  where: {
    now: number
    currentPoolId: string | null
    excludedZones?: readonly string[]
    /** A stateful workload's AZ (EngineInput.statefulAz): pools elsewhere are not candidates. */
    statefulAz?: string
    workload?: Workload
  },
  params: EngineParams,
):
  | 'current'
  | 'incompatible_type'
  | 'excluded_zone'
  | 'stateful_other_az'
  | 'stale'
  | 'recently_interrupted'
  | 'capacity_error'
  | 'no_price'
  | null {
  const { now } = where
  if (pool.poolId === where.currentPoolId) return 'current'
  if (where.workload && pool.instanceType && typeExclusion(pool.instanceType, where.workload) !== null)
    return 'incompatible_type'
  if (where.excludedZones?.includes(pool.az)) return 'excluded_zone'
  if (where.statefulAz !== undefined && pool.az !== where.statefulAz) return 'stateful_other_az'
  if (!(pool.price > 0) || !Number.isFinite(pool.price)) return 'no_price'
  if (now - pool.seenAt > params.price_fresh_minutes * 60_000) return 'stale'
  const interrupted = pool.lastInterruptionAt
  if (interrupted !== null && now - interrupted < params.skip_after_interruption_minutes * 60_000) {
    return 'recently_interrupted'
  }
  const capacity = pool.lastCapacityErrorAt
  if (capacity !== null && now - capacity < params.skip_after_capacity_error_minutes * 60_000)
    return 'capacity_error'
  return null
}

/** Why `decide` leaves a pool out of its candidates: its exclusion, or a risk above the cap; null: a candidate. */
export type SkipReason = NonNullable<ReturnType<typeof poolExclusion>> | 'above_risk_threshold'

/** Why `decide` leaves `pool` (of risk `risk`) out of its candidates, or null when it weighs it. */
export function skipReason(
  pool: PoolQuote,
  risk: number,
  input: EngineInput,
  params: EngineParams,
): SkipReason | null {
  const where = {
    now: input.now,
    currentPoolId: input.current.mode === 'spot' ? input.current.poolId : null,
    excludedZones: input.excludedZones,
    statefulAz: input.statefulAz,
    workload: input.workload,
  }
  const why = poolExclusion(pool, where, params)
  return why ?? (risk > input.thresholds.risk_threshold ? 'above_risk_threshold' : null)
}

/** The decision for one agent now. Never throws on odd data: unknowns become `stay` with a reason. */
export function decide(input: EngineInput, params: EngineParams): Decision {
  if (!input.agent.enabled) return stay(['agent is disabled'], ['agent_disabled'])
  const od = input.onDemandPrice
  if (!(od > 0)) return stay(['no on-demand price known'], ['unknown_placement'])
  const { current, thresholds } = input

  const currentQuote =
    current.mode === 'spot' ? input.pools.find((p) => p.poolId === current.poolId) : undefined
  if (current.mode === 'spot' && !currentQuote)
    return stay(['no price for the current pool'], ['unknown_placement'])
  // each pool's spot/on-demand ratio is against its own type's on-demand price
  const riskOf = (pool: PoolQuote) => poolRisk(pool, pool.onDemandPrice ?? od, params)
  const here: Candidate = currentQuote
    ? {
        placement: current,
        price: currentQuote.price,
        expected: expectedPrice(currentQuote, params),
        risk: riskOf(currentQuote),
        quote: currentQuote,
      }
    : { placement: { mode: 'ondemand', poolId: null }, price: od, risk: 0, quote: null }
  const urgent = current.mode === 'spot' && here.risk > thresholds.risk_threshold + params.urgent_risk_margin

  const reasons: string[] = []
  const skipped = new Map<string, number>()
  const candidates: Candidate[] = []
  for (const pool of input.pools) {
    const risk = riskOf(pool)
    const reason = skipReason(pool, risk, input, params)
    if (reason === 'current') continue
    if (reason) skipped.set(reason, (skipped.get(reason) ?? 0) + 1)
    else
      candidates.push({
        placement: spotTarget(pool),
        price: pool.price,
        expected: expectedPrice(pool, params),
        risk,
        quote: pool,
      })
  }
  if (current.mode === 'spot')
    candidates.push({ placement: { mode: 'ondemand', poolId: null }, price: od, risk: 0, quote: null })
  for (const [why, n] of skipped) reasons.push(`${n} pool(s) skipped: ${why.replaceAll('_', ' ')}`)
  reasons.push(...capacityReasons(input.pools))
  if (urgent)
    reasons.push(`current pool risk ${here.risk.toFixed(2)} above threshold ${thresholds.risk_threshold}`)

  const eligible = urgent ? candidates.filter((c) => c.risk < here.risk) : candidates
  let best: Candidate | null = null
  let bestValue = Number.NEGATIVE_INFINITY
  for (const c of eligible) {
    const v = moveValue(here, c, od, params, thresholds)
    if (v > bestValue) [best, bestValue] = [c, v]
  }
  if (!best || bestValue <= 0) {
    return stay(
      [
        ...reasons,
        `current placement (${usd(here.price)}) is the best value`,
        ...(hasLeftSpot(input)
          ? ['not back to spot yet: no spot pool is both safe and worth the switch']
          : []),
        ...lifetimeReasons([here, best]),
      ],
      [],
      best,
    )
  }

  const savingsPerHour = here.price - best.price
  const hereExpected = here.expected ?? here.price
  const savingsPercent = ((hereExpected - (best.expected ?? best.price)) / hereExpected) * 100
  const name = best.placement.mode === 'spot' ? `pool ${best.placement.poolId}` : 'on-demand'
  const kind: DecisionKind =
    best.placement.mode === 'ondemand' ? 'to_ondemand' : current.mode === 'spot' ? 'switch_pool' : 'to_spot'
  const code: ReasonCode =
    kind === 'to_spot' && hasLeftSpot(input) ? 'back_to_spot' : urgent ? 'risky_pool' : 'better_value'
  if (code === 'back_to_spot') reasons.unshift(...backToSpotReasons(input, params))
  reasons.push(
    `${name}: ${usd(best.price)} vs ${usd(here.price)} (${savingsPercent.toFixed(1)} % saving), ` +
      `risk ${best.risk.toFixed(2)} vs ${here.risk.toFixed(2)}, value ${usd(bestValue)}`,
    ...typeReasons(best, here, input.workload),
    ...lifetimeReasons([best, here]),
  )
  if (kind === 'switch_pool' && !urgent)
    reasons.push(...moveReasons(input, params, best, here, savingsPercent))
  const blocked = [
    ...hardBlocks(input, params),
    ...(urgent
      ? []
      : comfortBlocks(input, params, {
          savingsPercent,
          valuePerHour: bestValue,
          currentPrice: hereExpected,
          betweenPools: kind === 'switch_pool',
          toSpot: kind === 'to_spot',
          target: best.quote,
          here: here.quote,
        })),
  ]
  const freshness = best.quote
    ? 1 - 0.5 * Math.min(1, (input.now - best.quote.seenAt) / (params.price_fresh_minutes * 60_000))
    : 1
  const margin = Math.min(1, bestValue / Math.max(here.price * 0.2, 1e-9))
  return {
    decision: blocked.length > 0 ? 'stay' : kind,
    target: best.placement,
    expected_savings_per_hour: round(savingsPerHour),
    risk: round(best.risk, 4),
    confidence: round(freshness * (0.5 + 0.5 * margin), 3),
    urgent,
    reason_code: code,
    reasons,
    blocked_by: blocked,
  }
}
