/** Spot price series per (instance type, AZ, product): explicit points plus an optional model that moves them. */
import type { Ec2State, SpotPoint } from './model'

export const LINUX = 'Linux/UNIX'

export function addSpotPrice(state: Ec2State, point: SpotPoint): void {
  state.spotPrices.push(point)
  state.spotPrices.sort((a, b) => a.at - b.at)
}

/** Samples the model (if any) now for each pool, adding a point where its price changed. */
export function sampleSpotModel(state: Ec2State, instanceTypes: string[]): void {
  const model = state.spotPriceModel
  if (!model) return
  const now = state.clock.now()
  for (const instanceType of instanceTypes) {
    for (const az of state.zones) {
      const price = model(instanceType, az, now)
      if (price === undefined) continue
      if (currentSpotPrice(state, instanceType, az, now) !== price) {
        addSpotPrice(state, { instanceType, az, productDescription: LINUX, price, at: now })
      }
    }
  }
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
