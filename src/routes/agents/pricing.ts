/**
 * POST /api/agents/:agentId/pricing-report: spot prices of every pool of the type, and on-demand; a 5.x
 * report adds `spot_history`, EC2's change points at EC2's own times, and covers every type its group
 * prices (`pricing_instance_types` of its config) with their on-demand prices in `on_demand_prices`.
 */
import { createRoute } from '@hono/zod-openapi'
import { AGENT_API, answers, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { fact, parseIsoTime, priceField, timeField } from './wire'
import { database } from '../../db/client'
import { runAfterReport } from '../../flows/engine-tick/run'
import { findInstanceOfAgent } from '../../db/queries/instances'
import { parsePoolId } from '../../prices/pool-id'
import { feedsOtherTenants } from '../../auth/principal'
import { recordPrices, type ReportedPool } from '../../flows/prices'
import type { ReportedPoint } from '../../prices/history'
import { OWN_AGENT, type AgentRouteEnv } from './context'
import { clock } from '../../clock'
import { isLegacyAgent } from '../../protocol'
import { pricedTypesOfGroup } from '../../flows/priced-types'

const SpotPool = z.object({
  pool_id: z.string().max(128),
  instance_type: fact,
  az: fact,
  price: priceField,
})

const ReportedInstance = z.object({
  instance_id: fact,
  instance_type: fact,
  region: fact,
  az: fact,
})

/** One change point of DescribeSpotPriceHistory: the pool's price from `at` (ISO 8601, EC2's time) on. */
const HistoryPoint = z.object({
  pool_id: z.string().max(128),
  at: z
    .string()
    .max(64)
    .transform((v, ctx) => {
      const at = parseIsoTime(v)
      if (at === null) ctx.addIssue({ code: 'custom', message: 'expected an ISO-8601 time' })
      return at ?? z.NEVER
    }),
  price: z.number().finite().min(0).max(1_000_000),
})

/**
 * 5.x and 4.0.0: prices under `pricing` (5.x adds `spot_history`); 3.2.0: `on_demand_price: {price}`
 * and `spot_pools` at the top.
 */
export const PricingReportBody = z
  .object({
    instance: ReportedInstance.nullish(),
    pricing: z
      .object({
        on_demand_price: priceField,
        current_spot_price: priceField,
        cheapest_pool: z.object({ pool_id: fact, price: priceField }).nullish(),
        spot_pools: z.array(SpotPool).max(500).nullish(),
        collected_at: timeField,
      })
      .nullish(),
    on_demand_price: z.object({ price: priceField }).nullish(),
    spot_pools: z.array(SpotPool).max(500).nullish(),
    spot_history: z.array(HistoryPoint).max(2000).nullish(),
    /** 5.x: on-demand prices of the other types it was told to price (`pricing_instance_types`). */
    on_demand_prices: z
      .array(
        z.object({
          instance_type: z.string().min(1).max(64),
          price: z.number().finite().positive().max(1_000_000),
        }),
      )
      .max(32)
      .nullish(),
  })
  .refine((b) => b.pricing != null || b.on_demand_price != null || b.spot_pools != null, {
    message: 'expected `pricing` (4.0.0) or `on_demand_price`/`spot_pools` (3.2.0)',
    path: ['pricing'],
  })

export type PricingReportBody = z.output<typeof PricingReportBody>

export const pricing = routeGroup<AgentRouteEnv>(AGENT_API)

pricing.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/pricing-report',
    summary:
      'Spot prices of every pool of the type and region, and the on-demand price (4.0.0 and 3.2.0 bodies)',
    request: { body: jsonBody(PricingReportBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const agent = c.get('agent')
    const db = database(c.env.DB)
    const known = agent.instanceId ? await findInstanceOfAgent(db, agent, agent.instanceId) : null
    // The reporter's own place as the control plane knows it; the body only fills what it does not know.
    const own = {
      instanceType: known?.instanceType ?? body.instance?.instance_type ?? null,
      region: known?.region ?? body.instance?.region ?? null,
    }
    // A 5.x agent prices the types its group's workloads may move to; an installed one its own alone.
    const place = {
      ...own,
      otherTypes:
        own.instanceType && own.region && !isLegacyAgent(agent.agentVersion)
          ? (
              await pricedTypesOfGroup(db, {
                clientId: agent.clientId,
                region: own.region,
                instanceType: own.instanceType,
              })
            ).slice(1)
          : [],
    }
    const onDemandPrice = body.pricing?.on_demand_price ?? body.on_demand_price?.price ?? null
    const now = clock.now()
    const recorded = await recordPrices(
      db,
      {
        clientId: agent.clientId,
        agentId: agent.id,
        shared: feedsOtherTenants(c.get('principal')),
        place,
        onDemandPrice,
        otherOnDemand: (body.on_demand_prices ?? []).map((o) => ({
          instanceType: o.instance_type,
          price: o.price,
        })),
        spotPools: reportedPools(body),
        spotHistory: (body.spot_history ?? []).map((p): ReportedPoint => ({
          poolId: p.pool_id,
          at: p.at,
          price: p.price,
        })),
      },
      now,
    )
    // The engine decides on the new prices without holding up the agent's request.
    c.executionCtx.waitUntil(runAfterReport(c.env, db, agent, now))
    return c.json({
      success: true,
      spot_rows: recorded.spotRows,
      ondemand_rows: recorded.ondemandRows,
      ignored_pools: recorded.ignoredPools,
      ...(recorded.ignoredPools.length > 0 && {
        ignored_reason: `only pools of ${[place.instanceType ?? "the agent's instance type", ...place.otherTypes].join(', ')} in ${place.region ?? 'its region'} are accepted`,
      }),
      // Said only to a report that sent history: installed agents' answer stays as it was.
      ...(body.spot_history != null && { ignored_history: recorded.ignoredHistory }),
    })
  },
)

/** The priced pools of a report of either version; a pool without a price or a readable id is skipped. */
export function reportedPools(body: PricingReportBody): ReportedPool[] {
  const items = body.pricing?.spot_pools ?? body.spot_pools ?? []
  const out: ReportedPool[] = []
  for (const item of items) {
    const ref = parsePoolId(item.pool_id)
    if (!ref || item.price === null) continue
    out.push({
      poolId: item.pool_id,
      instanceType: item.instance_type ?? ref.instanceType,
      az: item.az ?? ref.az,
      price: item.price,
    })
  }
  return out
}
