/**
 * People-facing instance routes: list with filters, pricing, metrics, price history, switch options,
 * and the options of every instance type × AZ with why each is or isn't chosen.
 */
import { createRoute } from '@hono/zod-openapi'
import { answers, CLIENT_API, routeGroup } from '../group'
import { clientScopeOf, requirePerson, scopeClient } from '../../auth/middleware'
import type { Context } from 'hono'
import { database, type Database } from '../../db/client'
import type { AppEnv } from '../../env'
import { freshTypesIn } from '../../db/queries/fresh-types'
import { instanceFacts } from '../../db/queries/instance-detail'
import { instanceInScope, InstanceListQuery, listInstances } from '../../db/queries/instances'
import { HistoryQuery, priceHistory, RANGES, toLegacyRows } from '../../db/queries/price-history'
import { clock } from '../../clock'
import { livenessFrom } from '../../db/queries/liveness'
import { found } from '../../errors'
import * as z from 'zod'
import { instanceOptions } from '../../db/queries/instance-options'
import { offsetOf } from '../../db/queries/paging'
import { optionWords } from '../../engine/option-words'
import { placementOptions } from '../../engine/placement-options'

export const OptionsQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(25),
})

export const clientInstances = routeGroup<AppEnv>(CLIENT_API)

/** The instance of the URL in the person's scope (404 across tenants). */
async function instanceOfUrl(c: Context<AppEnv>, db: Database) {
  const scope = clientScopeOf(requirePerson(c))
  return found(await instanceInScope(db, scope, c.req.param('instanceId') ?? ''), 'instance not found')
}

clientInstances.openapi(
  createRoute({
    method: 'get',
    path: '/{clientId}/instances',
    summary: 'Instances with prices and savings % (bare array)',
    request: { query: InstanceListQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    const page = await listInstances(database(c.env.DB), livenessFrom(c.env), clientId, c.req.valid('query'))
    c.header('X-Total-Count', String(page.total))
    return c.json(
      page.items.map((i) => ({
        ...i,
        type: i.instanceType,
        mode: i.currentMode,
        poolId: i.currentPoolId,
        onDemandPrice: i.ondemandPrice,
      })),
    )
  },
)

clientInstances.openapi(
  createRoute({
    method: 'get',
    path: '/instances/{instanceId}/pricing',
    summary: 'Pools with price and savings',
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const inst = await instanceOfUrl(c, db)
    return c.json((await instanceFacts(db, inst, clock.now())).pricing)
  },
)

clientInstances.openapi(
  createRoute({
    method: 'get',
    path: '/instances/{instanceId}/metrics',
    summary: 'Uptime, switches, ledger savings',
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const inst = await instanceOfUrl(c, db)
    return c.json((await instanceFacts(db, inst, clock.now())).metrics)
  },
)

clientInstances.openapi(
  createRoute({
    method: 'get',
    path: '/instances/{instanceId}/price-history',
    summary: 'Step series of every pool and on-demand',
    request: { query: HistoryQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const inst = await instanceOfUrl(c, db)
    const q = c.req.valid('query')
    const span = q.range ? RANGES[q.range] : (q.days ?? 1) * RANGES['24h']
    if (!inst.instanceType || !inst.region)
      return c.json({ data: [], pools: [], onDemandPrice: null, series: null })
    const history = await priceHistory(db, inst.clientId, inst.instanceType, inst.region, span, clock.now())
    return c.json({
      data: toLegacyRows(history),
      pools: history.pools.map((p) => ({ id: p.id, name: p.id, az: p.az, key: `pool_${p.id}` })),
      onDemandPrice: history.onDemand.at(-1)?.price ?? null,
      /** Step series with epoch-ms times, one per pool plus on-demand. */
      series: history,
    })
  },
)

clientInstances.openapi(
  createRoute({
    method: 'get',
    path: '/instances/{instanceId}/available-options',
    summary: 'Where the instance can switch to',
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const inst = await instanceOfUrl(c, db)
    const now = clock.now()
    const [{ pricing }, fresh] = await Promise.all([
      instanceFacts(db, inst, now),
      inst.region ? freshTypesIn(db, inst.clientId, inst.region, now) : Promise.resolve([]),
    ])
    // The instance's own type stays listed even while its prices are stale: it is what it runs.
    const types = new Set(inst.instanceType ? [inst.instanceType, ...fresh] : fresh)
    return c.json({
      currentType: inst.instanceType,
      currentRegion: inst.region,
      currentAz: inst.az,
      currentMode: inst.mode,
      currentPoolId: inst.poolId,
      availablePools: pricing.pools.filter((p) => p.price !== null),
      availableTypes: [...types].sort(),
    })
  },
)

clientInstances.openapi(
  createRoute({
    method: 'get',
    path: '/instances/{instanceId}/options',
    summary:
      "Every instance type × AZ of the region: spot and on-demand price, risk, why it is or isn't chosen " +
      '(paged; none for an instance its agent no longer runs on)',
    request: { query: OptionsQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const inst = await instanceOfUrl(c, db)
    const q = c.req.valid('query')
    const options = await instanceOptions(db, inst, clock.now())
    if (!options)
      return c.json({ baseInstanceType: null, allowedInstanceTypes: null, items: [], total: 0, ...q })
    const rows = placementOptions(options.input)
    const agent = { workload: options.input.workload, agentVersion: options.agent.agentVersion }
    return c.json({
      baseInstanceType: options.input.workload.baseType,
      allowedInstanceTypes: options.agent.allowedInstanceTypes,
      items: rows
        .slice(offsetOf(q), offsetOf(q) + q.limit)
        .map((r) => ({ ...r, reason: optionWords(r, agent) })),
      total: rows.length,
      ...q,
    })
  },
)
