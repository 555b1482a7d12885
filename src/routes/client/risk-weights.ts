/**
 * A client's own risk weights for the engine (engine/risk-weights.ts): `GET` and `PUT
 * /api/client/:clientId/risk-weights`. Each of the eight components 0-1; null (or absent from what
 * was stored) inherits the active parameter version's weight. A user sees only their own client;
 * owners and admins change it.
 */
import { createRoute } from '@hono/zod-openapi'
import { eq } from 'drizzle-orm'
import * as z from 'zod'
import { scopeClient, scopeClientWrite } from '../../auth/middleware'
import { clock } from '../../clock'
import { auditEntry } from '../../db/audit'
import { database, type Database } from '../../db/client'
import { activeParams } from '../../db/queries/engine-params'
import { riskWeightsOf } from '../../db/queries/risk-weights'
import { clients } from '../../db/schema'
import {
  effectiveWeights,
  MAX_CLIENT_WEIGHT,
  RISK_COMPONENTS,
  unusableWeights,
  type RiskWeightOverrides,
} from '../../engine/risk-weights'
import type { AppEnv } from '../../env'
import { ApiError } from '../../errors'
import { setRiskWeights } from '../../flows/risk-weights'
import { answers, CLIENT_API, jsonBody, routeGroup } from '../group'

const Weight = z.number().min(0).max(MAX_CLIENT_WEIGHT).nullable()

/** Components to change: a number sets it, null inherits again, an absent one stays as it is. */
export const RiskWeightsBody = z
  .object(
    Object.fromEntries(RISK_COMPONENTS.map((component) => [component, Weight])) as Record<
      (typeof RISK_COMPONENTS)[number],
      typeof Weight
    >,
  )
  .partial()
  .strict()

export const clientRiskWeightRoutes = routeGroup<AppEnv>(CLIENT_API)

/** The client's weights: its own, the active version's, and those in force. */
async function weightsView(db: Database, clientId: string) {
  const [{ version, params }, overrides] = await Promise.all([activeParams(db), riskWeightsOf(db, clientId)])
  return {
    client_id: clientId,
    params_version: version,
    defaults: params.weights,
    overrides,
    effective: effectiveWeights(params.weights, overrides),
  }
}

clientRiskWeightRoutes.openapi(
  createRoute({
    method: 'get',
    path: '/{clientId}/risk-weights',
    summary: "The engine's risk weights for this client (its own, the defaults, in force)",
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    return c.json(await weightsView(database(c.env.DB), clientId))
  },
)

clientRiskWeightRoutes.openapi(
  createRoute({
    method: 'put',
    path: '/{clientId}/risk-weights',
    summary: "Set the engine's risk weights for this client (owner); null inherits",
    request: { body: jsonBody(RiskWeightsBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClientWrite(c, clientId)
    const body = c.req.valid('json')
    const db = database(c.env.DB)
    const [client] = await db
      .select({ status: clients.status })
      .from(clients)
      .where(eq(clients.id, clientId))
      .limit(1)
    if (!client || client.status === 'deleted') throw new ApiError('NOT_FOUND', 'client not found')
    const before = await weightsView(db, clientId)
    const next = applyChange(before.overrides, body)
    const problem = unusableWeights(effectiveWeights(before.defaults, next))
    if (problem)
      throw new ApiError('VALIDATION', problem, { fields: [{ field: 'weights', message: problem }] })
    const now = clock.now()
    await db.batch([
      setRiskWeights(db, clientId, next, now),
      auditEntry(
        c,
        db,
        {
          action: 'client.risk_weights',
          clientId,
          targetType: 'client',
          targetId: clientId,
          before: before.overrides,
          after: next,
        },
        now,
      ),
    ])
    return c.json({ success: true, ...(await weightsView(db, clientId)) })
  },
)

/** The stored weights after a change: numbers set, nulls removed, absent ones kept. */
function applyChange(
  stored: RiskWeightOverrides,
  change: z.infer<typeof RiskWeightsBody>,
): RiskWeightOverrides {
  const next: RiskWeightOverrides = {}
  for (const k of RISK_COMPONENTS) {
    const value = k in change ? change[k] : stored[k]
    if (value !== null && value !== undefined) next[k] = value
  }
  return next
}
