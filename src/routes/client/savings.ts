/**
 * Savings of a client from the ledger: `GET /api/client/:clientId/savings?range=monthly|daily`
 * (summary, series, downtime and failover times), `/savings/agents` and `/savings/pools` breakdowns.
 * A user sees only their own client; an admin any.
 */
import { createRoute } from '@hono/zod-openapi'
import { answers, CLIENT_API, routeGroup } from '../group'
import * as z from 'zod'
import { scopeClient } from '../../auth/middleware'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { agentTotals, poolTotals, serviceTimes } from '../../db/queries/breakdown'
import { clientSegments, liveDays } from '../../db/queries/live-days'
import { DAY_MS, utcDay } from '../../ledger/rollup'
import { monthBounds, summarize, totals, type DailyRow } from '../../ledger/summary'
import { ledgerDays } from '../../db/queries/savings'
import { clock } from '../../clock'

export const SavingsQuery = z.object({
  range: z.enum(['monthly', 'daily']).default('monthly'),
  /** Days of the daily series, months of the monthly one. */
  periods: z.coerce.number().int().min(1).max(366).optional(),
})
export const BreakdownQuery = z.object({ period: z.enum(['month', 'lifetime', '30d']).default('month') })

export const clientSavings = routeGroup<AppEnv>(CLIENT_API)

function series(rows: DailyRow[], range: 'monthly' | 'daily', periods: number, now: number) {
  const key = range === 'daily' ? (r: DailyRow) => r.day : (r: DailyRow) => r.day.slice(0, 7)
  const groups = new Map<string, DailyRow[]>()
  for (const r of rows) groups.set(key(r), [...(groups.get(key(r)) ?? []), r])
  const first = range === 'daily' ? utcDay(now - (periods - 1) * DAY_MS) : monthStartDay(now, periods - 1)
  return [...groups.entries()]
    .filter(([k]) => k >= first.slice(0, k.length))
    .map(([k, g]) => ({ [range === 'daily' ? 'day' : 'month']: k, ...totals(g) }))
}

function monthStartDay(now: number, monthsBack: number): string {
  const d = new Date(now)
  return utcDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - monthsBack, 1))
}

function periodStart(period: 'month' | 'lifetime' | '30d', now: number): number {
  if (period === 'month') return monthBounds(now)[0]
  if (period === '30d') return now - 30 * DAY_MS
  return 0
}

clientSavings.openapi(
  createRoute({
    method: 'get',
    path: '/{clientId}/savings',
    summary: 'Ledger: month-to-date, projected, lifetime, series',
    request: { query: SavingsQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    const q = c.req.valid('query')
    const db = database(c.env.DB)
    const now = clock.now()
    const { days: rows } = await ledgerDays(db, clientId, now)
    const periods = q.periods ?? (q.range === 'daily' ? 30 : 12)
    return c.json({
      client_id: clientId,
      range: q.range,
      ...summarize(rows, now),
      series: series(rows, q.range, periods, now),
      ...(await serviceTimes(db, clientId, monthBounds(now)[0])),
    })
  },
)

clientSavings.openapi(
  createRoute({
    method: 'get',
    path: '/{clientId}/savings/agents',
    summary: 'Ledger per agent',
    request: { query: BreakdownQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    const q = c.req.valid('query')
    const now = clock.now()
    const db = database(c.env.DB)
    const live = await liveDays(db, clientSegments(clientId), now)
    return c.json({
      client_id: clientId,
      period: q.period,
      agents: await agentTotals(db, clientId, utcDay(periodStart(q.period, now)), live),
    })
  },
)

clientSavings.openapi(
  createRoute({
    method: 'get',
    path: '/{clientId}/savings/pools',
    summary: 'Ledger per pool',
    request: { query: BreakdownQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    const q = c.req.valid('query')
    const now = clock.now()
    return c.json({
      client_id: clientId,
      period: q.period,
      pools: await poolTotals(database(c.env.DB), clientId, periodStart(q.period, now), now),
    })
  },
)
