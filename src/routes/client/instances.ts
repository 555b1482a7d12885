/** People-facing instance routes: list with filters, pricing, metrics, price history, switch options. */
import { Hono } from 'hono'
import { clientScopeOf, personAuth, requirePerson, scopeClient } from '../../auth/middleware'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { readQuery } from '../../validate'
import { freshTypesIn } from '../../db/queries/fresh-types'
import { instanceFacts } from '../../db/queries/instance-detail'
import { instanceInScope, InstanceListQuery, listInstances } from '../../db/queries/instances'
import { HistoryQuery, priceHistory, RANGES, toLegacyRows } from '../../db/queries/price-history'
import { clock } from '../../clock'
import { livenessFrom } from '../../db/queries/liveness'

export const clientInstances = new Hono<AppEnv>()
clientInstances.use(personAuth)

clientInstances.get('/:clientId/instances', async (c) => {
  const clientId = c.req.param('clientId')
  scopeClient(c, clientId)
  const page = await listInstances(
    database(c.env.DB),
    livenessFrom(c.env),
    clientId,
    readQuery(c, InstanceListQuery),
  )
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
})

clientInstances.get('/instances/:instanceId/pricing', async (c) => {
  const db = database(c.env.DB)
  const inst = await instanceInScope(db, clientScopeOf(requirePerson(c)), c.req.param('instanceId'))
  return c.json((await instanceFacts(db, inst, clock.now())).pricing)
})

clientInstances.get('/instances/:instanceId/metrics', async (c) => {
  const db = database(c.env.DB)
  const inst = await instanceInScope(db, clientScopeOf(requirePerson(c)), c.req.param('instanceId'))
  return c.json((await instanceFacts(db, inst, clock.now())).metrics)
})

clientInstances.get('/instances/:instanceId/price-history', async (c) => {
  const db = database(c.env.DB)
  const inst = await instanceInScope(db, clientScopeOf(requirePerson(c)), c.req.param('instanceId'))
  const q = readQuery(c, HistoryQuery)
  const span = q.range ? RANGES[q.range] : (q.days ?? 1) * RANGES['24h']
  if (!inst.instanceType || !inst.region)
    return c.json({ data: [], pools: [], onDemandPrice: null, series: null })
  const history = await priceHistory(c.env.DB, inst.instanceType, inst.region, span, clock.now())
  return c.json({
    data: toLegacyRows(history),
    pools: history.pools.map((p) => ({ id: p.id, name: p.id, az: p.az, key: `pool_${p.id}` })),
    onDemandPrice: history.onDemand.at(-1)?.price ?? null,
    /** Step series with epoch-ms times, one per pool plus on-demand. */
    series: history,
  })
})

clientInstances.get('/instances/:instanceId/available-options', async (c) => {
  const db = database(c.env.DB)
  const inst = await instanceInScope(db, clientScopeOf(requirePerson(c)), c.req.param('instanceId'))
  const now = clock.now()
  const [{ pricing }, fresh] = await Promise.all([
    instanceFacts(db, inst, now),
    inst.region ? freshTypesIn(db, inst.region, now) : Promise.resolve([]),
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
})
