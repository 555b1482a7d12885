/** DescribeSpotPriceHistory: points in [StartTime, EndTime] plus the price in effect at StartTime, newest first. */
import type { ActionHandler } from '../action'
import { invalidValue } from '../errors'
import type { SpotPoint } from '../model'
import { filters, list, matchesAll, paginate } from '../query'
import { sampleSpotModel } from '../prices'
import { itemSet, leaf } from '../xml'

function time(raw: string | null, name: string): number | undefined {
  if (raw === null) return undefined
  const ms = Date.parse(raw)
  if (Number.isNaN(ms)) throw invalidValue(name, raw)
  return ms
}

export const describeSpotPriceHistory: ActionHandler = ({ state, params }) => {
  const now = state.clock.now()
  const types = list(params, 'InstanceType')
  const products = list(params, 'ProductDescription')
  const az = params.get('AvailabilityZone')
  if (az && !state.zones.includes(az)) throw invalidValue('availabilityZone', az)
  const start = time(params.get('StartTime'), 'startTime') ?? now
  const end = time(params.get('EndTime'), 'endTime') ?? now
  sampleSpotModel(state, types.length > 0 ? types : [...new Set(state.spotPrices.map((p) => p.instanceType))])
  const wanted = filters(params)

  const selected = state.spotPrices
    .filter((p) => types.length === 0 || types.includes(p.instanceType))
    .filter((p) => products.length === 0 || products.includes(p.productDescription))
    .filter((p) => !az || p.az === az)
    .filter((p) =>
      matchesAll(wanted, (name) => {
        if (name === 'availability-zone') return [p.az]
        if (name === 'instance-type') return [p.instanceType]
        if (name === 'product-description') return [p.productDescription]
        if (name === 'spot-price') return [p.price.toFixed(6)]
        return undefined
      }),
    )
  // Per pool: every point inside the window, and the last one before it (the price at StartTime).
  const inEffect = new Map<string, SpotPoint>()
  const inWindow: SpotPoint[] = []
  for (const p of selected) {
    if (p.at > end) continue
    if (p.at >= start) inWindow.push(p)
    else inEffect.set(`${p.instanceType}|${p.az}|${p.productDescription}`, p)
  }
  const points = [...inEffect.values(), ...inWindow].sort((a, b) => b.at - a.at)
  const { page, nextToken } = paginate(params, points, 1, 10000)
  return (
    itemSet('spotPriceHistorySet', page, (p) =>
      [
        leaf('instanceType', p.instanceType),
        leaf('productDescription', p.productDescription),
        leaf('spotPrice', p.price.toFixed(6)),
        leaf('timestamp', new Date(p.at).toISOString()),
        leaf('availabilityZone', p.az),
      ].join(''),
    ) + leaf('nextToken', nextToken ?? '')
  )
}
