/** fast-check generators of engine inputs: a market of 1-6 pools around an agent. */
import fc from 'fast-check'
import { DEFAULT_PARAMS, type EngineParams } from '../../src/engine/params'
import type { EngineInput, PoolQuote } from '../../src/engine/types'

export const NOW = Date.UTC(2026, 5, 1, 12)

/** A freshly priced pool with no risk signals at all; tests add what they study. */
export const poolQuote = (az: string, price: number, extra: Partial<PoolQuote> = {}): PoolQuote => ({
  poolId: `t3.medium.${az}`,
  az,
  price,
  seenAt: NOW - 60_000,
  volatility24h: 0.02,
  trend1h: 0,
  interruptions30d: 0,
  rebalances30d: 0,
  rebalancesFollowed30d: 0,
  livedHoursInterrupted30d: 0,
  livedHoursCensored30d: 0,
  livesInterrupted30d: 0,
  lastInterruptionAt: null,
  lastCapacityErrorAt: null,
  ...extra,
})
const MIN = 60_000
const HOUR = 60 * MIN

const pool = (i: number) =>
  fc.record({
    poolId: fc.constant(`t3.medium.us-east-1${'abcdef'[i]}`),
    az: fc.constant(`us-east-1${'abcdef'[i]}`),
    price: fc.double({ min: 0.002, max: 0.08, noNaN: true }),
    seenAt: fc.integer({ min: NOW - 2 * HOUR, max: NOW }),
    volatility24h: fc.double({ min: 0, max: 1, noNaN: true }),
    trend1h: fc.double({ min: -0.5, max: 1.5, noNaN: true }),
    interruptions30d: fc.integer({ min: 0, max: 20 }),
    rebalances30d: fc.integer({ min: 0, max: 40 }),
    rebalancesFollowed30d: fc.integer({ min: 0, max: 40 }),
    // Often no data (the lifetime component then carries no weight), else up to 30 days of a small fleet.
    livedHoursInterrupted30d: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 3000, noNaN: true })),
    livedHoursCensored30d: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 3000, noNaN: true })),
    livesInterrupted30d: fc.integer({ min: 0, max: 10 }),
    lastInterruptionAt: fc.option(fc.integer({ min: NOW - 3 * HOUR, max: NOW }), { nil: null }),
    lastCapacityErrorAt: fc.option(fc.integer({ min: NOW - 20 * MIN, max: NOW }), { nil: null }),
    // Often no capacity evidence (no weight then), else a score of any age, fading or gone.
    placementScore: fc.option(
      fc.record({
        score: fc.integer({ min: 1, max: 10 }),
        ageHours: fc.double({ min: 0, max: 30, noNaN: true }),
      }),
      { nil: null },
    ),
    capacityErrors24h: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 })),
  }) satisfies fc.Arbitrary<PoolQuote>

export const pools = fc
  .integer({ min: 1, max: 6 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => pool(i))))

export const engineInput: fc.Arbitrary<EngineInput> = pools.chain((market) =>
  fc.record({
    now: fc.constant(NOW),
    agent: fc.record({
      enabled: fc.oneof(fc.constant(true), fc.constant(true), fc.boolean()),
      online: fc.oneof(fc.constant(true), fc.boolean()),
      commandInFlight: fc.oneof(fc.constant(false), fc.boolean()),
    }),
    current: fc
      .record({
        mode: fc.constantFrom('spot' as const, 'ondemand' as const),
        poolId: fc.constantFrom(...market.map((p) => p.poolId)),
        since: fc.integer({ min: NOW - 10 * HOUR, max: NOW }),
        imposed: fc.boolean(),
      })
      .map((c) => (c.mode === 'ondemand' ? { ...c, poolId: null } : c)),
    onDemandPrice: fc.double({ min: 0.02, max: 0.1, noNaN: true }),
    pools: fc.constant(market),
    switchTimes: fc.array(fc.integer({ min: NOW - 8 * 24 * HOUR, max: NOW }), { maxLength: 12 }),
    spotExits: fc.array(fc.integer({ min: NOW - 12 * HOUR, max: NOW }), { maxLength: 3 }),
    thresholds: fc.record({
      min_savings_percent: fc.double({ min: 0, max: 40, noNaN: true }),
      risk_threshold: fc.double({ min: 0.1, max: 1, noNaN: true }),
      max_switches_per_day: fc.integer({ min: 0, max: 6 }),
      max_switches_per_week: fc.integer({ min: 0, max: 20 }),
      min_pool_duration_hours: fc.double({ min: 0, max: 6, noNaN: true }),
    }),
  }),
)

export const params: fc.Arbitrary<EngineParams> = fc
  .record({
    cooldown_minutes: fc.integer({ min: 0, max: 120 }),
    hysteresis_percent: fc.double({ min: 0, max: 20, noNaN: true }),
    risk_penalty: fc.double({ min: 0, max: 1, noNaN: true }),
    price_fresh_minutes: fc.integer({ min: 5, max: 90 }),
    skip_after_interruption_minutes: fc.integer({ min: 0, max: 120 }),
  })
  .map((p) => ({ ...DEFAULT_PARAMS, ...p }))
