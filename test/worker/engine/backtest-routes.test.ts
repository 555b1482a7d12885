import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { auditLog, ondemandPrices, pools, spotPrices } from '../../../src/db/schema'
import { ADMIN, call } from '../agent-api/helpers'
import { db, seedClient, seedUser } from '../web/seed'

const HOUR = 3_600_000
const versions = '/api/admin/engine/versions'

/** A fresh type and region with `hours` of hourly change points in three pools and an on-demand price. */
async function seedMarket(hours: number, onDemand: number | null = 0.0416) {
  const type = `bt${crypto.randomUUID().slice(0, 6)}.large`
  const region = `r-${crypto.randomUUID().slice(0, 6)}`
  const now = Date.now()
  const hour = Math.floor(now / HOUR) * HOUR // change points on the hour, where the optimum decides
  const azs = ['a', 'b', 'c'].map((x) => `${region}${x}`)
  await db()
    .insert(pools)
    .values(azs.map((az) => ({ id: `${type}.${az}`, instanceType: type, region, az, createdAt: now })))
  // each pool takes a turn at being the cheapest, eight hours at a time
  const rows = azs.flatMap((az, k) =>
    Array.from({ length: hours }, (_, h) => ({
      poolId: `${type}.${az}`,
      price: Math.floor(h / 8) % 3 === k ? 0.011 : 0.0145 + 0.0005 * k,
      observedAt: hour - (hours - h) * HOUR,
    })),
  )
  // D1 binds at most 100 parameters: 4 per row (`shared` is bound too).
  for (let i = 0; i < rows.length; i += 24)
    await db()
      .insert(spotPrices)
      .values(rows.slice(i, i + 24))
  if (onDemand !== null)
    await db()
      .insert(ondemandPrices)
      .values({ instanceType: type, region, price: onDemand, observedAt: hour - hours * HOUR })
  return { type, region }
}

async function newVersion(params: Record<string, unknown> = {}) {
  const created = await call('POST', versions, { params }, ADMIN)
  expect(created.status).toBe(201)
  return created.json.version as number
}

describe('backtests of engine parameter versions', () => {
  it('need an admin: 401 without credentials, 403 for client users of any role', async () => {
    const v = await newVersion()
    const body = { instance_type: 't3.medium', region: 'us-east-1' }
    expect((await call('POST', `${versions}/${v}/backtest`, body)).status).toBe(401)
    expect((await call('GET', `${versions}/${v}/backtests`)).status).toBe(401)
    const client = await seedClient()
    for (const role of ['owner', 'viewer'] as const) {
      const user = await seedUser(client.id, role)
      expect((await call('POST', `${versions}/${v}/backtest`, body, user.headers)).status).toBe(403)
      expect((await call('GET', `${versions}/${v}/backtests`, undefined, user.headers)).status).toBe(403)
      expect((await call('GET', `${versions}/${v}/backtests/btr_x`, undefined, user.headers)).status).toBe(
        403,
      )
    }
  })

  it('rejects bad input with 400 naming the fields, and unknown versions with 404', async () => {
    const v = await newVersion()
    const bad = async (body: unknown) => call('POST', `${versions}/${v}/backtest`, body, ADMIN)
    for (const body of [
      {},
      { instance_type: 't3.medium', region: 'us-east-1', days: 0 },
      { instance_type: 't3.medium', region: 'us-east-1', days: 91 },
      { instance_type: 't3.medium', region: 'us-east-1', days: 2.5 },
      { instance_type: 't3.medium', region: 'us-east-1', on_demand_price: -1 },
      { instance_type: '', region: 'us-east-1' },
    ]) {
      const res = await bad(body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.json.code).toBe('VALIDATION')
    }
    expect((await bad('{"instance_type":')).status).toBe(400)
    const fields = (await bad({ region: 'x', days: 500 })).json.fields.map((f: { field: string }) => f.field)
    expect(fields).toEqual(expect.arrayContaining(['instance_type', 'days']))

    const body = { instance_type: 't3.medium', region: 'us-east-1' }
    for (const path of [`${versions}/999/backtest`, `${versions}/abc/backtest`, `${versions}/0/backtest`])
      expect((await call('POST', path, body, ADMIN)).status).toBe(404)
    expect((await call('GET', `${versions}/999/backtests`, undefined, ADMIN)).status).toBe(404)
    expect((await call('GET', `${versions}/${v}/backtests/btr_missing`, undefined, ADMIN)).status).toBe(404)
  })

  it('refuses with 409 JSON when the stored history is too thin or no on-demand price is known', async () => {
    const v = await newVersion()
    const none = await call(
      'POST',
      `${versions}/${v}/backtest`,
      { instance_type: 'zz.nothing', region: 'nowhere-1', on_demand_price: 0.1 },
      ADMIN,
    )
    expect(none.status).toBe(409)
    expect(none.json).toMatchObject({
      code: 'CONFLICT',
      reason: 'not_enough_history',
      price_points: 0,
      pools: 0,
    })
    expect(none.json.error).toMatch(/not enough stored price history/)

    const one = await seedMarket(1)
    await db()
      .delete(spotPrices)
      .where(eq(spotPrices.poolId, `${one.type}.${one.region}b`))
    await db()
      .delete(spotPrices)
      .where(eq(spotPrices.poolId, `${one.type}.${one.region}c`))
    const thin = await call(
      'POST',
      `${versions}/${v}/backtest`,
      { instance_type: one.type, region: one.region },
      ADMIN,
    )
    expect(thin.status).toBe(409)
    expect(thin.json).toMatchObject({ reason: 'not_enough_history', price_points: 1, pools: 3 })

    const noOd = await seedMarket(48, null)
    const missing = await call(
      'POST',
      `${versions}/${v}/backtest`,
      { instance_type: noOd.type, region: noOd.region },
      ADMIN,
    )
    expect(missing.status).toBe(409)
    expect(missing.json).toMatchObject({ reason: 'no_on_demand_price' })
    expect(missing.json.error).toMatch(/on_demand_price/)
    expect((await call('GET', `${versions}/${v}/backtests`, undefined, ADMIN)).json.total).toBe(0)
  })

  it('runs on stored prices: five strategies, active beats on-demand; stored, listed, read and audited', async () => {
    const v = await newVersion({ min_pool_duration_hours: 1 })
    const other = await newVersion()
    const market = await seedMarket(72)
    const admin = await seedUser(null, 'admin')
    const res = await call(
      'POST',
      `${versions}/${v}/backtest`,
      { instance_type: market.type, region: market.region, days: 5 },
      admin.headers,
    )
    expect(res.status).toBe(201)
    const run = res.json
    expect(run).toMatchObject({ params_version: v, created_by: admin.userId })
    expect(run.inputs).toMatchObject({
      instance_type: market.type,
      region: market.region,
      days: 5,
      on_demand_price: 0.0416,
      on_demand_source: 'stored',
      caps: { perDay: 3, perWeek: 10 },
    })
    expect(run.inputs.trace.pools).toEqual(['a', 'b', 'c'].map((x) => `${market.type}.${market.region}${x}`))
    expect(run.inputs.trace.step_minutes).toBe(5)
    const rows = Object.fromEntries(run.strategies.map((r: { strategy: string }) => [r.strategy, r]))
    expect(Object.keys(rows).sort()).toEqual(['active', 'cheapest', 'legacy', 'ondemand', 'optimum'])
    const hours = (run.inputs.trace.steps * 5) / 60
    expect(hours).toBeGreaterThan(72)
    expect(hours).toBeLessThanOrEqual(73)
    expect(rows.ondemand.total_cost).toBeCloseTo(hours * 0.0416, 4)
    expect(rows.active.total_cost).toBeLessThan(rows.ondemand.total_cost)
    expect(rows.active.savings_vs_ondemand_pct).toBeGreaterThan(50)
    expect(rows.active.cap_violations).toBe(0)
    expect(rows.legacy.savings_vs_ondemand_pct).toBeGreaterThan(0)
    expect(rows.optimum.total_cost).toBeLessThanOrEqual(rows.active.total_cost)
    expect(rows.optimum.share_of_hindsight_optimum).toBe(1)
    expect(rows.optimum.cap_violations).toBe(0)

    const given = await call(
      'POST',
      `${versions}/${v}/backtest`,
      { instance_type: market.type, region: market.region, days: 2, on_demand_price: 0.05 },
      ADMIN,
    )
    expect(given.status).toBe(201)
    expect(given.json.inputs).toMatchObject({ on_demand_price: 0.05, on_demand_source: 'request', days: 2 })
    expect(given.json.created_by).toBeNull()

    const list = await call('GET', `${versions}/${v}/backtests?limit=1`, undefined, ADMIN)
    expect(list.json).toMatchObject({ total: 2, page: 1, limit: 1 })
    expect(list.json.items.map((r: { id: string }) => r.id)).toEqual([given.json.id])
    const second = await call('GET', `${versions}/${v}/backtests?limit=1&page=2`, undefined, ADMIN)
    expect(second.json.items.map((r: { id: string }) => r.id)).toEqual([run.id])
    expect((await call('GET', `${versions}/${v}/backtests?limit=0`, undefined, ADMIN)).status).toBe(400)
    expect((await call('GET', `${versions}/${v}/backtests/${run.id}`, undefined, ADMIN)).json).toEqual(run)
    expect((await call('GET', `${versions}/${other}/backtests/${run.id}`, undefined, ADMIN)).status).toBe(404)
    expect((await call('GET', `${versions}/${other}/backtests`, undefined, ADMIN)).json.total).toBe(0)

    const entries = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'engine.backtest'), eq(auditLog.targetId, String(v))))
    const byRun = Object.fromEntries(entries.map((e) => [(e.after as { id: string }).id, e]))
    expect(entries).toHaveLength(2)
    expect(byRun[run.id]).toMatchObject({
      targetType: 'engine_params',
      actorType: 'admin',
      actorId: admin.userId,
    })
    expect(byRun[given.json.id]).toMatchObject({ actorType: 'operator', actorId: null })
    expect(byRun[given.json.id]!.after).toMatchObject({
      instance_type: market.type,
      days: 2,
      on_demand_price: 0.05,
    })
  })

  it('shows each version its backtest form and reports on the engine page, or what to do when it has none', async () => {
    const tried = await newVersion()
    const untried = await newVersion()
    const market = await seedMarket(30)
    const run = await call(
      'POST',
      `${versions}/${tried}/backtest`,
      { instance_type: market.type, region: market.region, days: 3 },
      ADMIN,
    )
    expect(run.status).toBe(201)
    const page = await call('GET', '/admin/engine', undefined, ADMIN)
    expect(page.status).toBe(200)
    const html = page.text
    const section = (v: number) => {
      const start = html.indexOf(`id="backtests-v${v}"`)
      return html.slice(start, html.indexOf('</details>', start))
    }
    const mine = section(tried)
    expect(mine).toContain(`data-api="/api/admin/engine/versions/${tried}/backtest"`)
    expect(mine).toContain('name="_csrf"')
    expect(mine).toContain(`data-run="${run.json.id}"`)
    for (const name of ['active', 'ondemand', 'cheapest', 'legacy', 'optimum'])
      expect(mine).toContain(`data-strategy="${name}"`)
    expect(mine).toContain('Share of hindsight optimum')
    expect(mine).toContain(`${market.type} in ${market.region}`)
    expect(mine).toContain('by operator')
    expect(section(untried)).toContain(`No backtest of v${untried} yet`)
    expect(html).toContain(`<option value="${market.type}">`)
  })

  it('are documented in the OpenAPI document from their zod schemas', async () => {
    const doc = (await call('GET', '/api/openapi.json')).json
    const run = doc.paths['/api/admin/engine/versions/{version}/backtest'].post
    const body = run.requestBody.content['application/json'].schema
    expect(body.required).toEqual(expect.arrayContaining(['instance_type', 'region']))
    expect(body.properties.days).toMatchObject({ minimum: 1, maximum: 90, default: 30 })
    expect(run.parameters.map((p: { name: string }) => p.name)).toEqual(['version'])
    const list = doc.paths['/api/admin/engine/versions/{version}/backtests'].get
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(['version', 'page', 'limit'])
    expect(doc.paths['/api/admin/engine/versions/{version}/backtests/{id}'].get.security).toContainEqual({
      operator: [],
    })
  })
})
