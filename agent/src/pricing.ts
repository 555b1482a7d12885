/**
 * Prices of the agent's instance type and of the types the control plane asks a reporter to price
 * (config `pricing_instance_types`): spot in every AZ of the region with EC2's change points (ONE
 * DescribeSpotPriceHistory call for all types, `InstanceType.N`) and on-demand per type from the Price
 * List API (GetProducts, JSON), cached a day per type and region.
 */
import type { Clock } from './clock'
import type { CredentialSource } from './credentials'
import type { Ec2 } from './ec2-transport'
import { describeSpotPriceHistory, type SpotPrice } from './ec2-operations'
import type { Log } from './log'
import { sendSigned } from './net/aws'

/** The on-demand price changes a few times a year: a day of cache is plenty. */
const ONDEMAND_TTL_MS = 24 * 3600_000
/** StartTime of the spot query: AWS answers the price in effect then plus later change points. */
const SPOT_LOOKBACK_MS = 60 * 60_000

export interface SpotPool {
  pool_id: string
  instance_type: string
  az: string
  price: number
}

/** A change point of a pool's spot price at EC2's time (ISO 8601): the 5.x report's `spot_history`. */
export interface HistoryPoint {
  pool_id: string
  at: string
  price: number
}

/** The current price of each pool, and the change points from a time on. */
export interface SpotPrices {
  pools: SpotPool[]
  history: HistoryPoint[]
}

/** The 4.0.0 pricing-report body; 5.x adds `spot_history` and `on_demand_prices` (the other types'). */
export interface PricingReport {
  instance: {
    instance_id: string
    instance_type: string
    region: string
    az: string
    mode: string
    pool_id: string | null
  }
  pricing: {
    on_demand_price: number | null
    current_spot_price: number | null
    cheapest_pool: { pool_id: string; price: number } | null
    spot_pools: SpotPool[]
    collected_at: string
  }
  spot_history?: HistoryPoint[]
  on_demand_prices?: { instance_type: string; price: number }[]
}

export interface Pricing {
  /**
   * Every pool of the types (one call); `since` (epoch ms): the change points at or after it are
   * listed, all of the last hour when null.
   */
  spotPrices(instanceTypes: string | readonly string[], since: number | null): Promise<SpotPrices>
  onDemandPrice(instanceType: string, region: string): Promise<number | null>
}

/** The newest price of each AZ, as pools sorted by AZ. */
export function latestPerAz(instanceType: string, rows: SpotPrice[]): SpotPool[] {
  const newest = new Map<string, SpotPrice>()
  for (const row of rows) {
    const seen = newest.get(row.az)
    if (!seen || row.at > seen.at) newest.set(row.az, row)
  }
  return (
    [...newest.values()]
      // Ordinal, not localeCompare: AZ names are ASCII, and ICU's collator maps ~3 MB more of the binary.
      .sort((a, b) => (a.az < b.az ? -1 : a.az > b.az ? 1 : 0))
      .map((r) => ({
        pool_id: `${instanceType}.${r.az}`,
        instance_type: instanceType,
        az: r.az,
        price: r.price,
      }))
  )
}

/** The change points at or after `since` (EC2 also answers the one in force at its StartTime), oldest first. */
export function changePointsSince(instanceType: string, rows: SpotPrice[], since: number): HistoryPoint[] {
  return rows
    .filter((r) => r.at >= since)
    .sort((a, b) => a.at - b.at)
    .map((r) => ({ pool_id: `${instanceType}.${r.az}`, at: new Date(r.at).toISOString(), price: r.price }))
}

/** The USD hourly price in one Price List product (a JSON string of GetProducts' PriceList). */
export function onDemandPriceOf(product: string): number | null {
  const doc = JSON.parse(product) as {
    terms?: {
      OnDemand?: Record<
        string,
        { priceDimensions?: Record<string, { pricePerUnit?: { USD?: string }; unit?: string }> }
      >
    }
  }
  for (const term of Object.values(doc.terms?.OnDemand ?? {})) {
    for (const dim of Object.values(term.priceDimensions ?? {})) {
      const usd = Number(dim.pricePerUnit?.USD)
      if (Number.isFinite(usd) && usd > 0) return usd
    }
  }
  return null
}

export function createPricing(deps: {
  ec2: Ec2
  credentials: CredentialSource
  clock: Clock
  log: Log
  /** AWS_ENDPOINT_URL_PRICING, else the us-east-1 endpoint. */
  endpoint: string | null
}): Pricing {
  const { ec2, clock, log } = deps
  const cache = new Map<string, { price: number; until: number }>()
  const endpoint = deps.endpoint ?? 'https://api.pricing.us-east-1.amazonaws.com/'

  async function getProducts(instanceType: string, region: string): Promise<number | null> {
    const term = (Field: string, Value: string) => ({ Type: 'TERM_MATCH', Field, Value })
    const request = {
      service: 'pricing',
      region: 'us-east-1',
      method: 'POST' as const,
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSPriceListService.GetProducts',
      },
      body: JSON.stringify({
        ServiceCode: 'AmazonEC2',
        Filters: [
          term('regionCode', region),
          term('instanceType', instanceType),
          term('operatingSystem', 'Linux'),
          term('tenancy', 'Shared'),
          term('preInstalledSw', 'NA'),
          term('capacitystatus', 'Used'),
        ],
        FormatVersion: 'aws_v1',
        MaxResults: 10,
      }),
      timeoutMs: 30_000,
    }
    let res = await sendSigned(endpoint, await deps.credentials.get(), request)
    // One retry for a throttled or failing Price List (the price is cached for a day once known).
    if (res.status >= 500 || res.status === 429)
      res = await sendSigned(endpoint, await deps.credentials.get(), request)
    if (!res.ok) throw new Error(`GetProducts answered ${res.status}`)
    const body = JSON.parse(res.text) as { PriceList?: unknown[] }
    for (const product of body.PriceList ?? []) {
      const price = onDemandPriceOf(typeof product === 'string' ? product : JSON.stringify(product))
      if (price !== null) return price
    }
    return null
  }

  return {
    async spotPrices(instanceTypes, since) {
      const types = typeof instanceTypes === 'string' ? [instanceTypes] : [...new Set(instanceTypes)]
      const start = clock.now() - SPOT_LOOKBACK_MS
      let rows = await describeSpotPriceHistory(ec2, types, 'Linux/UNIX', start)
      // Only when the first product has no rows at all (old EC2-Classic accounts): a second call.
      if (rows.length === 0)
        rows = await describeSpotPriceHistory(ec2, types, 'Linux/UNIX (Amazon VPC)', start)
      const from = Math.max(start, since ?? start)
      const ofType = (t: string) => rows.filter((r) => (r.instanceType ?? types[0]) === t)
      return {
        pools: types.flatMap((t) => latestPerAz(t, ofType(t))),
        history: types
          .flatMap((t) => changePointsSince(t, ofType(t), from))
          .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)),
      }
    },
    async onDemandPrice(instanceType, region) {
      const key = `${instanceType}/${region}`
      const hit = cache.get(key)
      if (hit && clock.now() < hit.until) return hit.price
      try {
        const price = await getProducts(instanceType, region)
        if (price !== null) cache.set(key, { price, until: clock.now() + ONDEMAND_TTL_MS })
        return price ?? hit?.price ?? null
      } catch (err) {
        log.warn('on-demand price unavailable', { instance_type: instanceType, region, error: err })
        return hit?.price ?? null
      }
    },
  }
}

/** Builds the 4.0.0 pricing-report body. */
export function pricingReport(
  instance: {
    instanceId: string
    instanceType: string
    region: string
    az: string
    mode: 'spot' | 'ondemand'
  },
  pools: SpotPool[],
  onDemand: number | null,
  now: number,
): PricingReport {
  // The 4.0.0 fields speak of the agent's own type; `spot_pools` lists every type priced.
  const own = pools.filter((p) => p.instance_type === instance.instanceType)
  const current = own.find((p) => p.az === instance.az) ?? null
  const cheapest = own.reduce<SpotPool | null>(
    (best, p) => (best === null || p.price < best.price ? p : best),
    null,
  )
  return {
    instance: {
      instance_id: instance.instanceId,
      instance_type: instance.instanceType,
      region: instance.region,
      az: instance.az,
      mode: instance.mode,
      pool_id: instance.mode === 'spot' ? `${instance.instanceType}.${instance.az}` : null,
    },
    pricing: {
      on_demand_price: onDemand,
      current_spot_price: current?.price ?? null,
      cheapest_pool: cheapest ? { pool_id: cheapest.pool_id, price: cheapest.price } : null,
      spot_pools: pools,
      collected_at: new Date(now).toISOString(),
    },
  }
}
