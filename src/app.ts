/** Builds the Hono app: request id, the error funnel, and the route groups. */
import { Hono } from 'hono'
import { configureClock } from './clock'
import type { AppEnv } from './env'
import { debug, meterD1 } from './debug/routes'
import { soakRows } from './debug/soak-rows'
import { ApiError } from './errors'
import { renderError } from './render-error'
import { adminClients } from './routes/admin/clients'
import { agentApi } from './routes/agents'
import { adminEngine } from './routes/admin/engine'
import { clientSavings } from './routes/client/savings'
import { forceSwitch } from './routes/client/force-switch'
import { health } from './routes/health'
import { mountPeople } from './web/mount'

export function buildApp() {
  const app = new Hono<AppEnv>()
  app.use(async (c, next) => {
    configureClock(c.env)
    c.set('requestId', c.req.header('cf-ray') ?? crypto.randomUUID())
    await next()
  })
  app.use(meterD1)
  app.onError(renderError)
  app.notFound((c) => renderError(new ApiError('NOT_FOUND', 'route not found'), c))

  app.route('/health', health)
  app.route('/__debug', debug)
  app.route('/__debug/soak-rows', soakRows)
  app.route('/api/agents', agentApi)
  app.route('/api/admin/clients', adminClients)
  app.route('/api/client', forceSwitch)
  app.route('/api/admin/engine', adminEngine)
  app.route('/api/client', clientSavings)
  mountPeople(app)
  return app
}
