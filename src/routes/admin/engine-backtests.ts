/**
 * Backtests of engine parameter versions on stored price history (admin), under
 * `/api/admin/engine/versions`: run one (stored and audited), list a version's reports, read one.
 */
import { createRoute } from '@hono/zod-openapi'
import { ADMIN_API, answers, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { requirePerson } from '../../auth/middleware'
import { database, type Database } from '../../db/client'
import { backtestStoredHistory, insertRun } from '../../flows/backtest'
import { findRun, listRuns } from '../../db/queries/backtests'
import type { BacktestRun } from '../../engine/backtest/stored'
import { resolveParams } from '../../engine/params'
import { findVersion } from '../../db/queries/engine-params'
import type { AppEnv } from '../../env'
import { ApiError } from '../../errors'
import { newId } from '../../ids'
import { auditEntry } from '../../db/audit'
import { offsetOf } from '../../db/queries/paging'
import { clock } from '../../clock'

export const BacktestBody = z.object({
  instance_type: z.string().trim().min(1).max(64),
  region: z.string().trim().min(1).max(32),
  days: z.number().int().min(1).max(90).default(30),
  /** USD/h; default: the latest stored on-demand price of the type in the region. */
  on_demand_price: z.number().positive().max(1000).nullish(),
})

export const BacktestListQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
})

export const engineBacktests = routeGroup<AppEnv>(ADMIN_API)

async function storedVersion(db: Database, raw: string | undefined) {
  const version = Number(raw)
  const row = Number.isInteger(version) && version >= 1 ? await findVersion(db, version) : null
  if (!row) throw new ApiError('NOT_FOUND', 'engine parameter version not found')
  return row
}

engineBacktests.openapi(
  createRoute({
    method: 'post',
    path: '/engine/versions/{version}/backtest',
    summary:
      'Backtest a version on stored price history (201: the stored report; 409 when the history is too thin)',
    request: { body: jsonBody(BacktestBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const version = await storedVersion(db, c.req.param('version'))
    const body = c.req.valid('json')
    const now = clock.now()
    const result = await backtestStoredHistory(db, resolveParams(version.params), body, now)
    if (!result.ok) {
      switch (result.reason) {
        case 'no_on_demand_price':
          throw new ApiError(
            'CONFLICT',
            `no on-demand price stored for ${body.instance_type} in ${body.region}: pass on_demand_price`,
            { reason: result.reason },
          )
        case 'not_enough_history':
          throw new ApiError(
            'CONFLICT',
            `not enough stored price history for ${body.instance_type} in ${body.region} over ${body.days} days: ` +
              `${result.price_points} price point(s) in ${result.pools} pool(s), at least ${result.needed} needed`,
            { reason: result.reason, price_points: result.price_points, pools: result.pools },
          )
        default: {
          const never: never = result
          return never
        }
      }
    }
    const person = requirePerson(c)
    const run: BacktestRun = {
      id: newId('btr'),
      params_version: version.version,
      inputs: result.inputs,
      strategies: result.report.strategies,
      created_by: person.kind === 'admin' ? person.userId : null,
      created_at: now,
    }
    await db.batch([
      insertRun(db, run),
      auditEntry(
        c,
        db,
        {
          action: 'engine.backtest',
          targetType: 'engine_params',
          targetId: String(version.version),
          after: { id: run.id, ...body, on_demand_price: run.inputs.on_demand_price },
        },
        now,
      ),
    ])
    return c.json(run, 201)
  },
)

engineBacktests.openapi(
  createRoute({
    method: 'get',
    path: '/engine/versions/{version}/backtests',
    summary: "A version's backtest reports",
    request: { query: BacktestListQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const version = await storedVersion(db, c.req.param('version'))
    const q = c.req.valid('query')
    const page = await listRuns(db, version.version, { limit: q.limit, offset: offsetOf(q) })
    return c.json({ ...page, page: q.page, limit: q.limit })
  },
)

engineBacktests.openapi(
  createRoute({
    method: 'get',
    path: '/engine/versions/{version}/backtests/{id}',
    summary: 'One backtest report',
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const version = await storedVersion(db, c.req.param('version'))
    const run = await findRun(db, version.version, c.req.param('id'))
    if (!run) throw new ApiError('NOT_FOUND', 'backtest not found')
    return c.json(run)
  },
)
