/** GET /health: liveness of the Worker and its database (no auth). */
import { clock } from '../clock'
import { Hono } from 'hono'
import type { AppEnv } from '../env'

export const health = new Hono<AppEnv>()

health.get('/', async (c) => {
  const timestamp = new Date(clock.now()).toISOString()
  try {
    await c.env.DB.prepare('select 1').first()
    return c.json({ status: 'healthy', timestamp, database: 'connected' })
  } catch {
    return c.json({ status: 'unhealthy', timestamp, database: 'unreachable' }, 503)
  }
})
