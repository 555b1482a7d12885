/**
 * Engine parameter versions (admin): list, create, activate, roll back to the previous active version,
 * run one in shadow mode or stop it, backtest one (engine-backtests.ts). Parameters are JSON validated by
 * zod, never code.
 */
import { createRoute } from '@hono/zod-openapi'
import { ADMIN_API, answers, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { requirePerson } from '../../auth/middleware'
import { database } from '../../db/client'
import { DEFAULT_PARAMS, PartialParams, resolveParams } from '../../engine/params'
import { activeParams, findVersion, listVersions, shadowParams } from '../../db/queries/engine-params'
import { activateVersion, createVersion, rollBack, setShadow } from '../../flows/engine-params'
import { eventsFileText, priceFileText } from '../../db/queries/engine-history'
import type { AppEnv } from '../../env'
import { ApiError } from '../../errors'
import { auditEntry } from '../../db/audit'
import { clock } from '../../clock'

export const CreateVersionBody = z.object({
  params: PartialParams,
  note: z.string().max(1000).nullish(),
  activate: z.boolean().default(false),
})

export const HistoryQuery = z.object({
  instance_type: z.string().min(1).max(64),
  region: z.string().min(1).max(32),
  days: z.coerce.number().int().min(1).max(365).default(30),
})

export const adminEngine = routeGroup<AppEnv>(ADMIN_API)

function versionParam(raw: string | undefined): number {
  const version = Number(raw)
  if (!Number.isInteger(version) || version < 1)
    throw new ApiError('NOT_FOUND', 'engine parameter version not found')
  return version
}

adminEngine.openapi(
  createRoute({
    method: 'get',
    path: '/engine/versions',
    summary: 'Engine parameter versions',
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const [rows, active, shadow] = await Promise.all([listVersions(db), activeParams(db), shadowParams(db)])
    return c.json({
      active_version: active.version,
      shadow_version: shadow?.version ?? null,
      active_params: active.params,
      defaults: DEFAULT_PARAMS,
      versions: rows.map((r) => ({
        version: r.version,
        status: r.status,
        params: r.params,
        effective_params: resolveParams(r.params),
        note: r.note,
        created_by: r.createdBy,
        created_at: r.createdAt,
        activated_at: r.activatedAt,
      })),
    })
  },
)

adminEngine.openapi(
  createRoute({
    method: 'post',
    path: '/engine/versions',
    summary: 'New parameter version (JSON data)',
    request: { body: jsonBody(CreateVersionBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const db = database(c.env.DB)
    const now = clock.now()
    const person = requirePerson(c)
    const version = await createVersion(
      db,
      body.params,
      body.note ?? null,
      person.kind === 'admin' ? person.userId : null,
      now,
    )
    if (body.activate) await activateVersion(db, version, now)
    await auditEntry(
      c,
      db,
      {
        action: 'engine.version_create',
        targetType: 'engine_params',
        targetId: String(version),
        after: body,
      },
      now,
    )
    return c.json(
      { version, status: body.activate ? 'active' : 'draft', effective_params: resolveParams(body.params) },
      201,
    )
  },
)

adminEngine.openapi(
  createRoute({
    method: 'post',
    path: '/engine/versions/{version}/activate',
    summary: 'Activate a version',
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const version = versionParam(c.req.param('version'))
    if (!(await findVersion(db, version)))
      throw new ApiError('NOT_FOUND', 'engine parameter version not found')
    const now = clock.now()
    const before = (await activeParams(db)).version
    await activateVersion(db, version, now)
    await auditEntry(
      c,
      db,
      {
        action: 'engine.activate',
        targetType: 'engine_params',
        targetId: String(version),
        before: { active_version: before },
      },
      now,
    )
    return c.json({ success: true, active_version: version })
  },
)

adminEngine.openapi(
  createRoute({
    method: 'post',
    path: '/engine/rollback',
    summary: 'Roll back to the previously active version',
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const now = clock.now()
    const before = (await activeParams(db)).version
    const version = await rollBack(db, now)
    if (version === null) throw new ApiError('CONFLICT', 'no previously active version to roll back to')
    await auditEntry(
      c,
      db,
      {
        action: 'engine.rollback',
        targetType: 'engine_params',
        targetId: String(version),
        before: { active_version: before },
      },
      now,
    )
    return c.json({ success: true, active_version: version, rolled_back_from: before })
  },
)

adminEngine.openapi(
  createRoute({
    method: 'post',
    path: '/engine/versions/{version}/shadow',
    summary: 'Run a version in shadow mode',
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const version = versionParam(c.req.param('version'))
    const row = await findVersion(db, version)
    if (!row) throw new ApiError('NOT_FOUND', 'engine parameter version not found')
    if (row.status === 'active') throw new ApiError('CONFLICT', 'the active version cannot run in shadow')
    await setShadow(db, version)
    await auditEntry(c, db, {
      action: 'engine.shadow',
      targetType: 'engine_params',
      targetId: String(version),
    })
    return c.json({ success: true, shadow_version: version })
  },
)

adminEngine.openapi(
  createRoute({
    method: 'delete',
    path: '/engine/shadow',
    summary: 'Stop the shadow run',
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    await setShadow(db, null)
    await auditEntry(c, db, { action: 'engine.shadow_stop', targetType: 'engine_params' })
    return c.json({ success: true, shadow_version: null })
  },
)

/** Stored prices and signals in the backtest's formats: `npm run backtest -- prices.txt --events events.tsv`. */
adminEngine.openapi(
  createRoute({
    method: 'get',
    path: '/engine/history/prices.txt',
    summary: 'Stored spot prices as `describe-spot-price-history --output text` (for `npm run backtest`)',
    request: { query: HistoryQuery },
    responses: answers('Price history as text', z.string(), 'text/plain'),
  }),
  async (c) => {
    const q = c.req.valid('query')
    const text = await priceFileText(
      database(c.env.DB),
      q.instance_type,
      q.region,
      clock.now() - q.days * 86_400_000,
    )
    return c.text(text)
  },
)

adminEngine.openapi(
  createRoute({
    method: 'get',
    path: '/engine/history/events.tsv',
    summary: 'Stored interruption and rebalance signals',
    request: { query: HistoryQuery },
    responses: answers('Events, tab-separated', z.string(), 'text/tab-separated-values'),
  }),
  async (c) => {
    const q = c.req.valid('query')
    const text = await eventsFileText(
      database(c.env.DB),
      q.instance_type,
      q.region,
      clock.now() - q.days * 86_400_000,
    )
    return c.text(text)
  },
)
