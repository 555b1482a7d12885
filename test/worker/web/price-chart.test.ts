import { describe, expect, it } from 'vitest'
import { ondemandPrices, spotPrices } from '../../../src/db/schema'
import { MIN_CHART_SPAN_MS, spanOfData, type PriceHistory } from '../../../src/db/queries/price-history'
import { db, get, seedClient, seedSpotInstance, seedUser } from './seed'

const MIN = 60_000

/** A client's instance started 45 minutes ago in a region whose prices were first reported 40 minutes ago. */
async function youngInstance() {
  const client = await seedClient()
  const now = Date.now()
  const startedAt = now - 45 * MIN
  const { instanceId, region, type, poolId } = await seedSpotInstance(client.id, startedAt, now)
  await db()
    .insert(spotPrices)
    .values([
      { poolId, price: 0.0128, observedAt: now - 40 * MIN },
      { poolId, price: 0.0131, observedAt: now - 20 * MIN },
    ])
  await db()
    .insert(ondemandPrices)
    .values({ instanceType: type, region, price: 0.0416, observedAt: now - 40 * MIN })
  return { client, instanceId, startedAt }
}

/** The x of the first point of each drawn series, and the first time tick, of the instance page's chart. */
function chartOf(html: string) {
  const chart = html.slice(html.indexOf('id="price-chart"'), html.indexOf('</svg>'))
  const starts = [...chart.matchAll(/<path d="M([\d.]+),/g)].map((m) => Number(m[1]))
  const firstTick = Number(
    /class="tick"[^>]*data-ts="(\d+)"|data-ts="(\d+)"[^>]*class="tick"/.exec(chart)?.slice(1).find(Boolean),
  )
  return { starts, firstTick }
}

describe('price chart of a young instance', () => {
  it('spans the data it has: the 24 h range starts at the instance start, not a sliver at the right edge', async () => {
    const { client, instanceId, startedAt } = await youngInstance()
    const owner = await seedUser(client.id, 'owner')
    const html = await (await get(`/c/${client.id}/instances/${instanceId}?range=24h`, owner.headers)).text()
    const { starts, firstTick } = chartOf(html)
    expect(starts).toHaveLength(2)
    // Plot area 56..888: a price reported 5 minutes after the start of a 45-minute range is near the left.
    for (const x of starts) expect(x).toBeLessThan(200)
    expect(firstTick).toBe(startedAt)
  })

  it('keeps a minimum span, and the whole window when a price was in force at its start', () => {
    const to = Date.UTC(2026, 0, 2)
    const from = to - 24 * 3600_000
    const young: PriceHistory = {
      from,
      to,
      pools: [
        {
          id: 'p',
          az: 'a',
          points: [
            { t: to - 5 * MIN, price: 1 },
            { t: to, price: 1 },
          ],
        },
      ],
      onDemand: [],
    }
    expect(spanOfData(young, to - 2 * MIN).from).toBe(to - MIN_CHART_SPAN_MS)
    expect(spanOfData(young, to - 3 * 3600_000).from).toBe(to - 3 * 3600_000)
    expect(spanOfData(young, to - 48 * 3600_000).from).toBe(from)
    const old = {
      ...young,
      onDemand: [
        { t: from, price: 2 },
        { t: to, price: 2 },
      ],
    }
    expect(spanOfData(old, to - 2 * MIN).from).toBe(from)
  })
})
