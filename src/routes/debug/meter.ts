/**
 * Benchmark-only routes, present only when the Worker runs with `D1_METER=on`: every request's D1
 * binding is metered, and the operator reads or resets the count of rows written and of Durable
 * Object requests by kind and of alarms set (session/request-meter.ts).
 */
import { Hono } from 'hono'
import { createMiddleware } from 'hono/factory'
import { operatorAuth } from '../../auth/middleware'
import type { AppEnv } from '../../env'
import { ApiError } from '../../errors'
import { isMeterOn, meteredD1, readMeter, resetMeter } from '../../db/d1-meter'
import { readAlarmsSet, readDoRequests, resetDoRequests } from '../../session/request-meter'

/** Swaps in the metered D1 binding for the rest of the request (a no-op unless the meter is on). */
export const meterD1 = createMiddleware<AppEnv>(async (c, next) => {
  if (isMeterOn(c.env)) c.env = { ...c.env, DB: meteredD1(c.env) }
  await next()
})

export const meterRoutes = new Hono<AppEnv>()

const meterOn = createMiddleware<AppEnv>(async (c, next) => {
  if (!isMeterOn(c.env)) throw new ApiError('NOT_FOUND', 'route not found')
  await next()
})

meterRoutes.get('/d1-rows-written', meterOn, operatorAuth, (c) => {
  const { total, byStatement } = readMeter()
  return c.json({ rows_written: total, by_statement: byStatement })
})

meterRoutes.post('/d1-rows-written/reset', meterOn, operatorAuth, (c) => {
  resetMeter()
  return c.json({ rows_written: 0 })
})

meterRoutes.get('/do-requests', meterOn, operatorAuth, (c) =>
  c.json({ by_kind: readDoRequests(), alarms_set: readAlarmsSet() }),
)

meterRoutes.post('/do-requests/reset', meterOn, operatorAuth, (c) => {
  resetDoRequests()
  return c.json({ by_kind: {}, alarms_set: {} })
})
