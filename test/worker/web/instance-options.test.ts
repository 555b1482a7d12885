import { describe, expect, it } from 'vitest'
import { agents, decisions, instances, ondemandPrices, pools, spotPrices } from '../../../src/db/schema'
import { newId } from '../../../src/ids'
import { db, get, seedClient, seedUser, send } from './seed'

const MIN = 60_000

/**
 * A 5.x agent on m5.large spot in zone a of a fresh region, with pools of m5.large and m6i.large in
 * zones a and b and of c5.large in zone a (less memory than m5.large), each priced, and the engine's
 * latest decision: m6i.large in zone a is its pick, held back by the minimum stay; m5.large in zone b
 * is above the risk cap.
 */
async function seedMarket(clientId: string) {
  const now = Date.now()
  const region = `r-${crypto.randomUUID().slice(0, 6)}`
  const agentId = newId('agt')
  const instanceId = `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
  const id = (type: string, zone: string) => `${type}.${region}${zone}`
  await db()
    .insert(agents)
    .values({
      id: agentId,
      clientId,
      logicalAgentId: `opt-${agentId.slice(-6)}`,
      agentVersion: '5.0.0',
      instanceId,
      baseInstanceType: 'm5.large',
      createdAt: now - 60 * MIN,
      updatedAt: now,
    })
  await db()
    .insert(instances)
    .values({
      id: newId('ins'),
      clientId,
      agentId,
      instanceId,
      instanceType: 'm5.large',
      region,
      az: `${region}a`,
      mode: 'spot',
      poolId: id('m5.large', 'a'),
      createdAt: now - 60 * MIN,
      updatedAt: now,
    })
  const priced: [string, string, number][] = [
    ['m5.large', 'a', 0.041],
    ['m5.large', 'b', 0.036],
    ['m6i.large', 'a', 0.031],
    ['m6i.large', 'b', 0.052],
    ['c5.large', 'a', 0.021],
  ]
  await db()
    .insert(pools)
    .values(
      priced.map(([type, zone]) => ({
        id: id(type, zone),
        instanceType: type,
        region,
        az: `${region}${zone}`,
        createdAt: now,
      })),
    )
  await db()
    .insert(spotPrices)
    .values(
      priced.map(([type, zone, price]) => ({ poolId: id(type, zone), price, observedAt: now - 10 * MIN })),
    )
  await db()
    .insert(ondemandPrices)
    .values(
      (['m5.large', 'm6i.large', 'c5.large'] as const).map((type, i) => ({
        instanceType: type,
        region,
        price: [0.096, 0.096, 0.085][i]!,
        observedAt: now - 10 * MIN,
      })),
    )
  await db()
    .insert(decisions)
    .values({
      id: newId('dec'),
      clientId,
      agentId,
      paramsVersion: 1,
      decision: 'stay',
      targetMode: 'spot',
      targetPoolId: id('m6i.large', 'a'),
      risk: 0.12,
      reasons: [],
      blockedBy: ['min_pool_duration'],
      inputs: {
        pools: [
          { pool_id: id('m5.large', 'a'), risk: 0.1, skipped: 'current' },
          { pool_id: id('m5.large', 'b'), risk: 0.45, skipped: 'above_risk_threshold' },
          { pool_id: id('m6i.large', 'a'), risk: 0.12, skipped: null },
          { pool_id: id('m6i.large', 'b'), risk: 0.1, skipped: null },
        ],
        thresholds: { risk_threshold: 0.3 },
      },
      createdAt: now - 5 * MIN,
      lastSeenAt: now - 5 * MIN,
    })
  return { agentId, instanceId, region }
}

/** The options table's rows: `<type> <az>` → { why kind, cells' text }. */
function optionsOf(html: string) {
  const table = html.slice(
    html.indexOf('id="options"'),
    html.indexOf('</table>', html.indexOf('id="options"')),
  )
  const rows = [
    ...table.matchAll(/<tr data-type="([^"]+)" data-az="([^"]+)" data-why="([^"]+)">(.*?)<\/tr>/gs),
  ]
  return new Map(
    rows.map((m) => [
      `${m[1]} ${m[2]}`,
      {
        why: m[3],
        text: m[4]!
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim(),
      },
    ]),
  )
}

/** Every page of the options table, in order (a page holds 25 rows; the last one fewer). */
async function optionPages(clientId: string, instanceId: string, headers: Record<string, string>) {
  const pages: ReturnType<typeof optionsOf>[] = []
  for (let page = 1; page <= 10; page++) {
    const html = await (await get(`/c/${clientId}/instances/${instanceId}?page=${page}`, headers)).text()
    pages.push(optionsOf(html))
    if (pages.at(-1)!.size < 25) break
  }
  return pages
}

/** All the options rows of every page. */
const allRows = (pages: ReturnType<typeof optionsOf>[]) => new Map(pages.flatMap((p) => [...p]))

describe('the instance page options', () => {
  it('shows every type × AZ with its prices, risk and why: current, the held-back pick, a risk above the cap, a type with less memory', async () => {
    const client = await seedClient()
    const owner = await seedUser(client.id, 'owner')
    const { instanceId, region } = await seedMarket(client.id)
    const pages = await optionPages(client.id, instanceId, owner.headers)
    const rows = allRows(pages)
    expect(rows.get(`m5.large ${region}a`)).toMatchObject({ why: 'current' })
    expect(rows.get(`m6i.large ${region}a`)?.why).toBe('pick')
    expect(rows.get(`m6i.large ${region}a`)?.text).toContain('$0.0310/h')
    expect(rows.get(`m6i.large ${region}a`)?.text).toContain('$0.0960/h')
    expect(rows.get(`m6i.large ${region}a`)?.text).toContain(
      'the engine’s pick, held back: the minimum stay in the current placement',
    )
    expect(rows.get(`m6i.large ${region}b`)?.why).toBe('weighed')
    expect(rows.get(`m5.large ${region}b`)?.text).toContain('skipped: risk 0.45 above the cap 0.3')
    expect(rows.get(`c5.large ${region}a`)?.text).toContain('4 GiB, less memory than m5.large (8 GiB)')
    // Types the default rule allows with no pool known yet: a row per AZ.
    expect(rows.get(`m7i.large ${region}b`)).toMatchObject({ why: 'no_price' })
    // Current, the pick, the weighed pool, the skipped one: the first page's first rows; the type
    // excluded last. 25 rows a page, each row on one page only.
    expect([...pages[0]!.keys()].slice(0, 4)).toEqual([
      `m5.large ${region}a`,
      `m6i.large ${region}a`,
      `m6i.large ${region}b`,
      `m5.large ${region}b`,
    ])
    expect([...rows.keys()].at(-1)).toBe(`c5.large ${region}a`)
    expect(pages.length).toBeGreaterThan(1)
    expect(pages[0]!.size).toBe(25)
    expect(rows.size).toBe(pages.reduce((n, p) => n + p.size, 0))
  })

  it('follows the allow-list set through the API: a type left off says so', async () => {
    const client = await seedClient()
    const owner = await seedUser(client.id, 'owner')
    const { agentId, instanceId, region } = await seedMarket(client.id)
    const set = await send('POST', `/api/client/agents/${agentId}/config`, owner.headers, {
      allowedInstanceTypes: ['m6i.large'],
    })
    expect(set.status).toBe(200)
    const rows = allRows(await optionPages(client.id, instanceId, owner.headers))
    expect(rows.get(`m6i.large ${region}a`)?.why).toBe('pick')
    expect(rows.get(`m7i.large ${region}a`)).toBeUndefined()
    expect(rows.get(`c5.large ${region}a`)?.text).toContain('not on the allow-list')
    // The base type stays allowed.
    expect(rows.get(`m5.large ${region}b`)?.why).toBe('skipped')
  })

  it('answers the same rows as JSON, paged, with the reason in words', async () => {
    const client = await seedClient()
    const viewer = await seedUser(client.id, 'viewer')
    const { instanceId, region } = await seedMarket(client.id)
    const res = await get(`/api/client/instances/${instanceId}/options?limit=3&page=1`, viewer.headers)
    expect(res.status).toBe(200)
    const body = (await res.json()) as {
      baseInstanceType: string
      total: number
      items: { instanceType: string; az: string; why: { kind: string }; reason: string }[]
    }
    expect(body.baseInstanceType).toBe('m5.large')
    expect(body.items.map((r) => [r.instanceType, r.az, r.why.kind])).toEqual([
      ['m5.large', `${region}a`, 'current'],
      ['m6i.large', `${region}a`, 'pick'],
      ['m6i.large', `${region}b`, 'weighed'],
    ])
    expect(body.items[1]!.reason).toContain('held back')
    const pages = await optionPages(client.id, instanceId, viewer.headers)
    expect(body.total).toBe(allRows(pages).size)
    const bad = await get(`/api/client/instances/${instanceId}/options?limit=1000`, viewer.headers)
    expect(bad.status).toBe(400)
  })

  it("never shows another client's instance or its options", async () => {
    const client = await seedClient()
    const { instanceId } = await seedMarket(client.id)
    const other = await seedClient()
    const stranger = await seedUser(other.id, 'owner')
    expect((await get(`/c/${other.id}/instances/${instanceId}`, stranger.headers)).status).toBe(404)
    const api = await get(`/api/client/instances/${instanceId}/options`, stranger.headers)
    expect(api.status).toBe(404)
    expect(await api.json()).toMatchObject({ code: 'NOT_FOUND' })
  })
})
