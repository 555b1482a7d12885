/** Spot price series per (instance type, AZ, product): explicit points plus an optional model that moves them. */
import type { Ec2State, SpotPoint } from './model'

export const LINUX = 'Linux/UNIX'

export function addSpotPrice(state: Ec2State, point: SpotPoint): void {
  state.spotPrices.push(point)
  state.spotPrices.sort((a, b) => a.at - b.at)
}

/** The grid on which the model is read between samples, ms (a change is then timed to the ms). */
const SCAN_MS = 60_000
/** How far back the first sample of a pool looks for when its current price began, ms. */
const FIRST_SCAN_MS = 24 * 3_600_000

/**
 * Samples the model (if any) up to now for each pool, adding a point at each time its price changed,
 * as EC2 stamps a change when it happens, not when someone first asks (the first sample of a pool
 * gets one point: when its current price began).
 */
export function sampleSpotModel(state: Ec2State, instanceTypes: string[]): void {
  const model = state.spotPriceModel
  if (!model) return
  const now = state.clock.now()
  for (const instanceType of instanceTypes) {
    for (const az of state.zones) {
      const priceAt = (atMs: number) => model(instanceType, az, atMs)
      const add = (price: number, at: number) =>
        addSpotPrice(state, { instanceType, az, productDescription: LINUX, price, at })
      const last = lastPoint(state, instanceType, az, now)
      const current = priceAt(now)
      if (current === undefined) continue
      if (!last) {
        add(current, runStart(priceAt, now, current))
        continue
      }
      let [before, known] = [last.at, last.price]
      for (let mark = (Math.floor(last.at / SCAN_MS) + 1) * SCAN_MS; before < now; mark += SCAN_MS) {
        const at = Math.min(mark, now)
        const price = priceAt(at)
        if (price !== undefined && price !== known) {
          add(price, changeTime(priceAt, before, at, price))
          known = price
        }
        before = at
      }
    }
  }
}

/** When the run of `price` that holds at `now` began (looked for as far back as FIRST_SCAN_MS). */
function runStart(priceAt: (atMs: number) => number | undefined, now: number, price: number): number {
  let [lo, hi] = [(Math.ceil(now / SCAN_MS) - 1) * SCAN_MS, now]
  while (lo > now - FIRST_SCAN_MS && priceAt(lo) === price) [lo, hi] = [lo - SCAN_MS, lo]
  return priceAt(lo) === price ? lo : changeTime(priceAt, lo, hi, price)
}

/** The first ms in (lo, hi] from which `price` holds through hi (bisection; it does not hold at lo). */
function changeTime(
  priceAt: (atMs: number) => number | undefined,
  lo: number,
  hi: number,
  price: number,
): number {
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (priceAt(mid) === price) hi = mid
    else lo = mid
  }
  return hi
}

function lastPoint(state: Ec2State, instanceType: string, az: string, atMs: number): SpotPoint | undefined {
  let found: SpotPoint | undefined
  for (const p of state.spotPrices) {
    if (p.at > atMs) break
    if (p.instanceType === instanceType && p.az === az && p.productDescription === LINUX) found = p
  }
  return found
}

/** The price in effect at `atMs` (the latest point at or before it). */
export function currentSpotPrice(
  state: Ec2State,
  instanceType: string,
  az: string,
  atMs: number,
  product = LINUX,
): number | undefined {
  let price: number | undefined
  for (const p of state.spotPrices) {
    if (p.at > atMs) break
    if (p.instanceType === instanceType && p.az === az && p.productDescription === product) price = p.price
  }
  return price
}
