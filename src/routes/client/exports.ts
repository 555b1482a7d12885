/** CSV exports of a client's savings (daily, per agent) and switch history. */
import { createRoute } from '@hono/zod-openapi'
import { answers, CLIENT_API, routeGroup } from '../group'
import * as z from 'zod'
import { scopeClient } from '../../auth/middleware'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { utcDay } from '../../ledger/rollup'
import { switchHistory } from '../../db/queries/history'
import { dailySavingsRows } from '../../db/queries/savings'
import { clock } from '../../clock'

export const ExportQuery = z.object({ days: z.coerce.number().int().min(1).max(400).default(90) })

/** One CSV field: quoted when needed; a leading = + - @ is neutralised so spreadsheets don't run it. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return ''
  let s = typeof value === 'number' ? String(value) : String(value)
  if (typeof value === 'string' && /^[=+\-@]/.test(s)) s = `'${s}`
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n'
}

function csvResponse(body: string, filename: string): Response {
  return new Response(body, {
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${filename}"`,
    },
  })
}

export const clientExports = routeGroup<AppEnv>(CLIENT_API)

clientExports.openapi(
  createRoute({
    method: 'get',
    path: '/{clientId}/export/savings.csv',
    summary: 'CSV of daily savings per agent',
    request: { query: ExportQuery },
    responses: answers('CSV, one row per day', z.string(), 'text/csv'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    const { days } = c.req.valid('query')
    const now = clock.now()
    const rows = await dailySavingsRows(database(c.env.DB), clientId, utcDay(now - days * 86_400_000), now)
    const body = toCsv(
      [
        'day',
        'agent_id',
        'baseline_cost_usd',
        'primary_cost_usd',
        'replica_cost_usd',
        'overlap_cost_usd',
        'savings_usd',
      ],
      rows.map((r) => [
        r.day,
        r.agentId,
        r.baselineCost,
        r.primaryCost,
        r.replicaCost,
        r.overlapCost,
        r.savings,
      ]),
    )
    return csvResponse(body, `savings-${clientId}.csv`)
  },
)

clientExports.openapi(
  createRoute({
    method: 'get',
    path: '/{clientId}/export/switches.csv',
    summary: 'CSV of the switch history',
    responses: answers('CSV, one row per switch', z.string(), 'text/csv'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    const rows = await switchHistory(database(c.env.DB), clientId, { limit: 10_000 })
    const body = toCsv(
      [
        'time_utc',
        'agent_id',
        'old_instance_id',
        'new_instance_id',
        'from_mode',
        'to_mode',
        'from_pool',
        'to_pool',
        'trigger',
        'new_price_usd_h',
        'savings_impact_usd_h',
        'downtime_ms',
      ],
      rows.map((s) => [
        new Date(s.timestamp).toISOString(),
        s.agentId,
        s.oldInstanceId,
        s.newInstanceId,
        s.fromMode,
        s.toMode,
        s.fromPool,
        s.toPool,
        s.trigger,
        s.price,
        s.savingsImpact,
        s.downtimeMs,
      ]),
    )
    return csvResponse(body, `switches-${clientId}.csv`)
  },
)
