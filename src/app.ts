/** Builds the Hono app: request id, the error funnel, and the route groups. */
import { OpenAPIHono } from '@hono/zod-openapi'
import { configureClock } from './clock'
import { settingsOf, type AppEnv } from './env'
import { ApiError } from './errors'
import { renderError } from './render-error'
import { adminApi } from './routes/admin'
import { agentApi } from './routes/agents'
import { clientApi } from './routes/client'
import { me } from './routes/client/me'
import { notificationRoutes } from './routes/client/notifications'
import { debug } from './routes/debug'
import { meterD1 } from './routes/debug/meter'
import { health } from './routes/health'
import { serveOpenApi } from './routes/openapi'
import { pages } from './web/pages/router'

export function buildApp() {
  const app = new OpenAPIHono<AppEnv>()
  app.use(async (c, next) => {
    configureClock(settingsOf(c.env).simClock)
    c.set('requestId', c.req.header('cf-ray') ?? crypto.randomUUID())
    await next()
  })
  app.use(meterD1)
  app.onError(renderError)
  app.notFound((c) => renderError(new ApiError('NOT_FOUND', 'route not found'), c))

  app.route('/', health)
  app.route('/__debug', debug)
  app.route('/api/agents', agentApi)
  app.route('/api/client', clientApi)
  app.route('/api/admin', adminApi)
  app.route('/api/me', me)
  app.route('/api/notifications', notificationRoutes)
  serveOpenApi(app)
  app.route('/', pages)
  return app
}
