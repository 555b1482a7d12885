/**
 * Fake Price List API (`GetProducts`, JSON 1.1, SigV4 service `pricing`). Each instance type has the product
 * the agent wants (Linux, Shared, no pre-installed software, capacity Used) and decoys at other prices.
 */
import { randomUUID } from 'node:crypto'
import { systemClock, type Clock } from './clock'
import { DEFAULT_ON_DEMAND, productsFor } from './pricing-catalog'
import { header, serve, type FakeRequest, type FakeResponse } from './http'
import { TEST_CREDENTIALS, verifySigV4, type AwsCredentials } from './sigv4'

export { DEFAULT_ON_DEMAND }

export interface PricingRequestLogEntry {
  target: string
  at: number
  status: number
  code?: string
  filters: Array<{ Field: string; Value: string }>
}

export interface FakePricing {
  url: string
  requests: PricingRequestLogEntry[]
  setOnDemandPrice(region: string, instanceType: string, usd: number): void
  addCredentials(credentials: AwsCredentials): void
  count(): number
  close(): Promise<void>
}

export interface FakePricingOptions {
  clock?: Clock
  credentials?: AwsCredentials[]
  prices?: Record<string, Record<string, number>>
  port?: number
}

export async function startFakePricing(options: FakePricingOptions = {}): Promise<FakePricing> {
  const clock = options.clock ?? systemClock
  const prices: Record<string, Record<string, number>> = structuredClone(options.prices ?? DEFAULT_ON_DEMAND)
  const credentials = new Map((options.credentials ?? [TEST_CREDENTIALS]).map((c) => [c.accessKeyId, c]))
  const requests: PricingRequestLogEntry[] = []

  async function handle(req: FakeRequest): Promise<FakeResponse> {
    const target = header(req.headers, 'x-amz-target') ?? ''
    const entry: PricingRequestLogEntry = { target, at: clock.now(), status: 200, filters: [] }
    requests.push(entry)
    const fail = (status: number, code: string, message: string): FakeResponse => {
      entry.status = status
      entry.code = code
      return {
        status,
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-errortype': code,
          'x-amzn-requestid': randomUUID(),
        },
        body: JSON.stringify({ __type: code, message }),
      }
    }
    const auth = await verifySigV4(req, {
      region: 'us-east-1',
      service: 'pricing',
      lookup: (id) => credentials.get(id),
    })
    if (!auth.ok) {
      return auth.kind === 'auth'
        ? fail(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.')
        : fail(403, 'InvalidSignatureException', auth.message)
    }
    if (req.method !== 'POST') return fail(404, 'UnknownOperationException', 'POST only')
    if (target !== 'AWSPriceListService.GetProducts')
      return fail(400, 'UnknownOperationException', `Unknown operation ${target}`)
    let body: { ServiceCode?: unknown; Filters?: unknown; MaxResults?: unknown; NextToken?: unknown }
    try {
      body = JSON.parse(req.body || '{}')
    } catch {
      return fail(400, 'SerializationException', 'Request body is not JSON')
    }
    if (body.ServiceCode !== 'AmazonEC2')
      return fail(400, 'InvalidParameterException', 'Only ServiceCode AmazonEC2 is served here')
    const filters = Array.isArray(body.Filters)
      ? (body.Filters as Array<{ Type?: string; Field?: string; Value?: string }>)
      : []
    for (const f of filters) {
      if (
        (f.Type !== 'TERM_MATCH' && f.Type !== 'EQUALS') ||
        typeof f.Field !== 'string' ||
        typeof f.Value !== 'string'
      ) {
        return fail(
          400,
          'InvalidParameterException',
          'Each filter needs Type TERM_MATCH, a Field and a Value',
        )
      }
    }
    entry.filters = filters.map((f) => ({ Field: f.Field!, Value: f.Value! }))
    const all = Object.entries(prices).flatMap(([region, types]) =>
      Object.entries(types).flatMap(([type, usd]) => productsFor(region, type, usd, clock.now())),
    )
    const matching = all.filter((p) =>
      entry.filters.every((f) => {
        const key = Object.keys(p).find((k) => k.toLowerCase() === f.Field.toLowerCase())
        return key !== undefined && key !== 'json' && p[key] === f.Value
      }),
    )
    const size = typeof body.MaxResults === 'number' ? body.MaxResults : 100
    const start =
      typeof body.NextToken === 'string' ? Number(Buffer.from(body.NextToken, 'base64').toString()) || 0 : 0
    const page = matching.slice(start, start + size)
    const next =
      start + size < matching.length ? Buffer.from(String(start + size)).toString('base64') : undefined
    return {
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() },
      body: JSON.stringify({
        FormatVersion: 'aws_v1',
        PriceList: page.map((p) => p.json),
        ...(next ? { NextToken: next } : {}),
      }),
    }
  }

  const server = await serve(handle, options.port)
  return {
    url: server.url,
    requests,
    setOnDemandPrice: (region, instanceType, usd) => {
      prices[region] = { ...prices[region], [instanceType]: usd }
    },
    addCredentials: (c) => credentials.set(c.accessKeyId, c),
    count: () => requests.length,
    close: () => server.close(),
  }
}
