/** Builds the Hono app: request id, the error funnel, and the route groups. */
import { OpenAPIHono } from '@hono/zod-openapi'
import { configureClock } from './clock'
import type { AppEnv } from './env'
import { debug } from './routes/debug'
import { meterD1 } from './routes/debug/meter'
import { ApiError } from './errors'
import { renderError } from './render-error'
import { adminClients } from './routes/admin/clients'
import { agentApi } from './routes/agents'
import { adminEngine } from './routes/admin/engine'
import { clientSavings } from './routes/client/savings'
import { forceSwitch } from './routes/client/force-switch'
import { health } from './routes/health'
import { clientAdmin } from './routes/admin/client-admin'
import { adminFleet } from './routes/admin/fleet'
import { adminGrowth } from './routes/admin/growth'
import { adminUsers } from './routes/admin/users'
import { clientAgents } from './routes/client/agents'
import { clientExports } from './routes/client/exports'
import { clientInstances } from './routes/client/instances'
import { me } from './routes/client/me'
import { notificationRoutes } from './routes/client/notifications'
import { clientReplicas } from './routes/client/replicas'
import { clientReports } from './routes/client/reports'
import { clientSettings } from './routes/client/settings'
import { serveOpenApi } from './routes/openapi'
import { pages } from './web/pages/router'

export function buildApp() {
  const app = new OpenAPIHono<AppEnv>()
  app.use(async (c, next) => {
    configureClock(c.env)
    c.set('requestId', c.req.header('cf-ray') ?? crypto.randomUUID())
    await next()
  })
  app.use(meterD1)
  app.onError(renderError)
  app.notFound((c) => renderError(new ApiError('NOT_FOUND', 'route not found'), c))

  // First match wins: /api/admin/clients and /api/client are each served by several sub-apps, so this
  // order is part of the routing until each prefix is one group.
  app.route('/', health)
  app.route('/__debug', debug)
  app.route('/api/agents', agentApi)
  app.route('/api/admin/clients', adminClients)
  app.route('/api/client', forceSwitch)
  app.route('/api/admin/engine', adminEngine)
  app.route('/api/client', clientSavings)
  app.route('/api/admin/clients', adminGrowth)
  app.route('/api/admin/clients', clientAdmin)
  app.route('/api/admin/users', adminUsers)
  app.route('/api/admin', adminFleet)
  app.route('/api/me', me)
  app.route('/api/notifications', notificationRoutes)
  app.route('/api/client', clientAgents)
  app.route('/api/client', clientInstances)
  app.route('/api/client', clientExports)
  app.route('/api/client', clientSettings)
  app.route('/api/client', clientReplicas)
  app.route('/api/client', clientReports)
  serveOpenApi(app)
  app.route('/', pages)
  return app
}
