/**
 * What the fake EC2 charged: per instance, its running time (from its state log: billing starts when it
 * enters `running` and stops when it leaves it, as EC2 bills) × the price in effect each second, with
 * EC2's 60-second minimum per period. Spot: the pool's price at that second (the spot price model when
 * one is set, else the recorded price points); on-demand: the Price List's price, passed in.
 * Not modelled: AWS's free partial first hour of a Spot Instance that AWS itself interrupts.
 */
import type { Ec2State, Instance } from './model'
import { LINUX } from './prices'

export interface BillOptions {
  /** USD per hour of an instance type on-demand (the fake Price List's figure). */
  onDemandPrice(instanceType: string): number | undefined
  /** Only charges within [from, to) are counted (epoch ms; default: all of it, up to now). */
  from?: number
  to?: number
}

export interface InstanceCharge {
  instanceId: string
  lifecycle: Instance['lifecycle']
  instanceType: string
  az: string
  /** Running time billed within the window, ms (the 60-second minimum included). */
  billedMs: number
  /** USD. */
  cost: number
  /** Billed time without a known price (charged 0), ms. */
  unpricedMs: number
}

const SECOND = 1_000
/** EC2 bills Linux instances per second with a minimum of 60 seconds each time one starts running. */
export const MINIMUM_BILLED_MS = 60 * SECOND

/** Periods in `running`, [start, end) epoch ms; an instance still running ends at `now`. */
export function runningPeriods(instance: Instance, now: number): Array<[number, number]> {
  const periods: Array<[number, number]> = []
  let since: number | null = null
  for (const entry of instance.stateLog) {
    if (entry.state === 'running' && since === null) since = entry.at
    else if (entry.state !== 'running' && since !== null) {
      periods.push([since, entry.at])
      since = null
    }
  }
  if (since !== null && now > since) periods.push([since, now])
  return periods
}

/** The charge of one instance within the window. */
export function chargeOf(state: Ec2State, instance: Instance, options: BillOptions): InstanceCharge {
  const now = state.clock.now()
  const from = options.from ?? Number.NEGATIVE_INFINITY
  const to = Math.min(options.to ?? now, now)
  const priceAt = priceOf(state, instance, options)
  const charge: InstanceCharge = {
    instanceId: instance.instanceId,
    lifecycle: instance.lifecycle,
    instanceType: instance.instanceType,
    az: instance.az,
    billedMs: 0,
    cost: 0,
    unpricedMs: 0,
  }
  for (const [start, end] of runningPeriods(instance, now)) {
    // The minimum extends a short period as if it had run on; a period still running is not short yet.
    const stillRunning = end === now && instance.state === 'running'
    const billedEnd = stillRunning ? end : Math.max(end, start + MINIMUM_BILLED_MS)
    const a = Math.max(start, from)
    const b = Math.min(billedEnd, to)
    if (b <= a) continue
    // Each second is charged at the price in effect when it starts (a partial second pro rata).
    for (let t = a; t < b;) {
      const next = Math.min(b, (Math.floor(t / SECOND) + 1) * SECOND)
      const price = priceAt(Math.min(t, end - 1))
      if (price === undefined) charge.unpricedMs += next - t
      else charge.cost += (price * (next - t)) / 3_600_000
      charge.billedMs += next - t
      t = next
    }
  }
  return charge
}

/** Charges of every instance matching `include` (default: all), within the window. */
export function billOf(
  state: Ec2State,
  options: BillOptions & { include?: (instance: Instance) => boolean },
): InstanceCharge[] {
  return [...state.instances.values()]
    .filter((i) => options.include?.(i) ?? true)
    .map((i) => chargeOf(state, i, options))
}

/** The instance's hourly price as a function of time (queried with rising times). */
function priceOf(
  state: Ec2State,
  instance: Instance,
  options: BillOptions,
): (atMs: number) => number | undefined {
  if (instance.lifecycle === 'on-demand') {
    const price = options.onDemandPrice(instance.instanceType)
    return () => price
  }
  const model = state.spotPriceModel
  if (model) return (atMs) => model(instance.instanceType, instance.az, atMs)
  const points = state.spotPrices.filter(
    (p) => p.instanceType === instance.instanceType && p.az === instance.az && p.productDescription === LINUX,
  )
  let cursor = -1
  return (atMs) => {
    if (cursor >= 0 && points[cursor]!.at > atMs) cursor = -1
    while (cursor + 1 < points.length && points[cursor + 1]!.at <= atMs) cursor++
    return cursor >= 0 ? points[cursor]!.price : undefined
  }
}
