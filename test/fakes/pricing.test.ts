import { AwsClient } from 'aws4fetch'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startFakePricing, type FakePricing } from './pricing'
import { TEST_CREDENTIALS } from './sigv4'

let pricing: FakePricing
beforeEach(async () => {
  pricing = await startFakePricing()
})
afterEach(() => pricing.close())

const client = (secretAccessKey = TEST_CREDENTIALS.secretAccessKey) =>
  new AwsClient({ ...TEST_CREDENTIALS, secretAccessKey, service: 'pricing', region: 'us-east-1', retries: 0 })

const AGENT_FILTERS = (instanceType: string) => [
  { Type: 'TERM_MATCH', Field: 'regionCode', Value: 'us-east-1' },
  { Type: 'TERM_MATCH', Field: 'instanceType', Value: instanceType },
  { Type: 'TERM_MATCH', Field: 'operatingSystem', Value: 'Linux' },
  { Type: 'TERM_MATCH', Field: 'tenancy', Value: 'Shared' },
  { Type: 'TERM_MATCH', Field: 'preInstalledSw', Value: 'NA' },
  { Type: 'TERM_MATCH', Field: 'capacitystatus', Value: 'Used' },
]

function getProducts(body: unknown, secret?: string) {
  return client(secret).fetch(pricing.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSPriceListService.GetProducts',
    },
    body: JSON.stringify(body),
  })
}

/** What the agent extracts: the one USD price per hour of each product. */
function usdPrices(priceList: string[]): number[] {
  return priceList.map((item) => {
    const product = JSON.parse(item)
    const term = Object.values(product.terms.OnDemand)[0] as {
      priceDimensions: Record<string, { pricePerUnit: { USD: string } }>
    }
    return Number(Object.values(term.priceDimensions)[0]!.pricePerUnit.USD)
  })
}

describe('fake Price List GetProducts', () => {
  it('answers exactly one product for the agent filters, in the real PriceList shape', async () => {
    const res = await getProducts({
      ServiceCode: 'AmazonEC2',
      Filters: AGENT_FILTERS('m5.large'),
      FormatVersion: 'aws_v1',
      MaxResults: 10,
    })
    expect(res.status).toBe(200)
    const out = (await res.json()) as { FormatVersion: string; PriceList: string[] }
    expect(out.FormatVersion).toBe('aws_v1')
    expect(out.PriceList).toHaveLength(1)
    expect(usdPrices(out.PriceList)).toEqual([0.096])
    expect(JSON.parse(out.PriceList[0]!).product.attributes).toMatchObject({
      instanceType: 'm5.large',
      regionCode: 'us-east-1',
      capacitystatus: 'Used',
    })
    expect(pricing.requests[0]?.filters).toHaveLength(6)
  })

  it('has decoys at other prices when filters are missing, and pages them', async () => {
    const loose = [
      { Type: 'TERM_MATCH', Field: 'regionCode', Value: 'us-east-1' },
      { Type: 'TERM_MATCH', Field: 'instanceType', Value: 'm5.large' },
    ]
    const first = (await (
      await getProducts({ ServiceCode: 'AmazonEC2', Filters: loose, MaxResults: 4 })
    ).json()) as { PriceList: string[]; NextToken?: string }
    expect(first.PriceList).toHaveLength(4)
    const rest = (await (
      await getProducts({
        ServiceCode: 'AmazonEC2',
        Filters: loose,
        MaxResults: 4,
        NextToken: first.NextToken,
      })
    ).json()) as {
      PriceList: string[]
      NextToken?: string
    }
    expect(rest.NextToken).toBeUndefined()
    expect(new Set(usdPrices([...first.PriceList, ...rest.PriceList])).size).toBeGreaterThan(3)
  })

  it('follows a price set by the test', async () => {
    pricing.setOnDemandPrice('us-east-1', 'm5.large', 0.5)
    const out = (await (
      await getProducts({ ServiceCode: 'AmazonEC2', Filters: AGENT_FILTERS('m5.large') })
    ).json()) as { PriceList: string[] }
    expect(usdPrices(out.PriceList)).toEqual([0.5])
  })

  it('rejects a bad signature and a bad request with JSON errors', async () => {
    const bad = await getProducts({ ServiceCode: 'AmazonEC2' }, 'wrong')
    expect(bad.status).toBe(403)
    expect(await bad.json()).toMatchObject({ __type: 'InvalidSignatureException' })
    const invalid = await getProducts({
      ServiceCode: 'AmazonEC2',
      Filters: [{ Type: 'FUZZY', Field: 'x', Value: 'y' }],
    })
    expect(invalid.status).toBe(400)
    expect(await invalid.json()).toMatchObject({ __type: 'InvalidParameterException' })
  })
})
