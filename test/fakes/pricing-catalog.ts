/** The Price List catalog the fake serves: per type, the agent's product and decoys at other prices. */
import { isoSeconds } from './clock'

export const DEFAULT_ON_DEMAND: Record<string, Record<string, number>> = {
  'us-east-1': {
    't3.micro': 0.0104,
    't3.small': 0.0208,
    't3.medium': 0.0416,
    't3.large': 0.0832,
    'm5.large': 0.096,
    'm5.xlarge': 0.192,
    'c5.large': 0.085,
    'c5.xlarge': 0.17,
    'r5.large': 0.126,
  },
  'eu-west-1': {
    't3.micro': 0.0114,
    't3.small': 0.0228,
    't3.medium': 0.0456,
    't3.large': 0.0912,
    'm5.large': 0.107,
    'm5.xlarge': 0.214,
    'c5.large': 0.096,
    'c5.xlarge': 0.192,
    'r5.large': 0.141,
  },
}

const LOCATIONS: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-east-2': 'US East (Ohio)',
  'us-west-2': 'US West (Oregon)',
  'eu-west-1': 'EU (Ireland)',
  'eu-central-1': 'EU (Frankfurt)',
}

/** The attribute variants of one type; only the first is the agent's (Linux, Shared, NA, Used). */
const VARIANTS: Array<{ attrs: Record<string, string>; factor: number; extra: number }> = [
  {
    attrs: { operatingSystem: 'Linux', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'Used' },
    factor: 1,
    extra: 0,
  },
  {
    attrs: {
      operatingSystem: 'Linux',
      tenancy: 'Shared',
      preInstalledSw: 'NA',
      capacitystatus: 'UnusedCapacityReservation',
    },
    factor: 1.01,
    extra: 0,
  },
  {
    attrs: {
      operatingSystem: 'Linux',
      tenancy: 'Shared',
      preInstalledSw: 'NA',
      capacitystatus: 'AllocatedCapacityReservation',
    },
    factor: 0,
    extra: 0,
  },
  {
    attrs: { operatingSystem: 'Windows', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'Used' },
    factor: 1.8,
    extra: 0,
  },
  {
    attrs: { operatingSystem: 'Linux', tenancy: 'Dedicated', preInstalledSw: 'NA', capacitystatus: 'Used' },
    factor: 1.1,
    extra: 0,
  },
  {
    attrs: { operatingSystem: 'Linux', tenancy: 'Shared', preInstalledSw: 'SQL Std', capacitystatus: 'Used' },
    factor: 1,
    extra: 0.48,
  },
]

export function productsFor(
  region: string,
  instanceType: string,
  usd: number,
  publishedAt: number,
): Array<Record<string, string> & { json: string }> {
  return VARIANTS.map((variant, n) => {
    const sku = `${instanceType.replace('.', '').toUpperCase()}${region.replace(/-/g, '').toUpperCase()}${n}`
      .slice(0, 16)
      .padEnd(16, 'X')
    const attributes: Record<string, string> = {
      servicecode: 'AmazonEC2',
      instanceType,
      regionCode: region,
      location: LOCATIONS[region] ?? region,
      locationType: 'AWS Region',
      licenseModel: 'No License required',
      operation: 'RunInstances',
      usagetype: `BoxUsage:${instanceType}`,
      ...variant.attrs,
    }
    const price = (usd * variant.factor + variant.extra).toFixed(10)
    const offer = 'JRTCKXETXF'
    const rate = `${sku}.${offer}.6YS6EN2CT7`
    const product = {
      product: { productFamily: 'Compute Instance', attributes, sku },
      serviceCode: 'AmazonEC2',
      terms: {
        OnDemand: {
          [`${sku}.${offer}`]: {
            priceDimensions: {
              [rate]: {
                unit: 'Hrs',
                endRange: 'Inf',
                description: `$${price} per On Demand ${attributes.operatingSystem} ${instanceType} Instance Hour`,
                appliesTo: [],
                rateCode: rate,
                beginRange: '0',
                pricePerUnit: { USD: price },
              },
            },
            sku,
            effectiveDate: isoSeconds(publishedAt),
            offerTermCode: offer,
            termAttributes: {},
          },
        },
      },
      version: '20260101000000',
      publicationDate: isoSeconds(publishedAt),
    }
    return { ...attributes, json: JSON.stringify(product) }
  })
}
