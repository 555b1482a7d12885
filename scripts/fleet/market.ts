/**
 * The simulated spot market: each AZ's price moves around its own level (25-40 % of on-demand) with
 * slow and fast waves and occasional jumps, constant within 5-minute steps. A pure function of time
 * and a seed, so the fake EC2 can sample it whenever an agent asks for the price history. Each
 * instance type has its own market (marketOfType): its pools move and run out of capacity on their own.
 */

export interface MarketOptions {
  seed: number
  onDemandPrice: number
  zones: string[]
}

const STEP_MS = 5 * 60_000
const HOUR_MS = 3_600_000

/** Spot price (USD/h, 4 decimals) of one AZ at a moment; undefined for an AZ the market doesn't know. */
export function spotPrice(options: MarketOptions, az: string, atMs: number): number | undefined {
  const index = options.zones.indexOf(az)
  if (index < 0) return undefined
  const t = Math.floor(atMs / STEP_MS) * STEP_MS
  const level = 0.25 + 0.15 * unit(options.seed, index, 0)
  const phase = 2 * Math.PI * unit(options.seed, index, 1)
  const slow = 0.1 * Math.sin((2 * Math.PI * t) / (6 * HOUR_MS) + phase)
  const fast = 0.05 * Math.sin((2 * Math.PI * t) / (47 * 60_000) + 2 * phase)
  const hour = Math.floor(t / HOUR_MS)
  // About one hour in forty, a pool jumps by +50-150 % (a capacity crunch).
  const jump =
    unit(options.seed, index, hour * 2 + 2) < 0.025 ? 1.5 + unit(options.seed, index, hour * 2 + 3) : 1
  const price = options.onDemandPrice * level * (1 + slow + fast) * jump
  return Math.round(Math.min(price, options.onDemandPrice * 1.2) * 10_000) / 10_000
}

/**
 * Whether an AZ's pool has spot capacity at a moment: in about half of its crunch hours (the price
 * jumps above) it has none at all, and a spot launch there fails (InsufficientInstanceCapacity).
 */
export function hasCapacity(options: MarketOptions, az: string, atMs: number): boolean {
  const index = options.zones.indexOf(az)
  if (index < 0) return false
  const hour = Math.floor(atMs / HOUR_MS)
  return !(unit(options.seed, index, hour * 2 + 2) < 0.025 && unit(options.seed, index, hour * 2 + 3) < 0.5)
}

/**
 * The market of another instance type in the same zones: its own seed (so its pools move, jump and
 * run out of capacity independently of the first type's) and its own on-demand price.
 */
export function marketOfType(
  options: MarketOptions,
  instanceType: string,
  onDemandPrice: number,
): MarketOptions {
  let h = 0
  for (const ch of instanceType) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0
  return { ...options, seed: (options.seed ^ h) >>> 0, onDemandPrice }
}

/** The prices of every AZ at a moment. */
export function spotPrices(options: MarketOptions, atMs: number): Record<string, number> {
  const prices: Record<string, number> = {}
  for (const az of options.zones) prices[az] = spotPrice(options, az, atMs) ?? 0
  return prices
}

/** A deterministic number in [0, 1) for (seed, a, b): a small integer hash (no state, no Math.random). */
export function unit(seed: number, a: number, b: number): number {
  let h = (seed ^ Math.imul(a + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0
  h = (h ^ (h >>> 16)) >>> 0
  return h / 2 ** 32
}
