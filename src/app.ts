/** Builds the Hono app: request id, the error funnel, and the route groups. */
import { Hono } from 'hono'
import type { AppEnv } from './env'
import { ApiError, renderError } from './errors'
import { agentApi } from './routes/agents'
import { health } from './routes/health'
import { mountPeople } from './web/mount'

export function buildApp() {
  const app = new Hono<AppEnv>()
  app.use(async (c, next) => {
    c.set('requestId', c.req.header('cf-ray') ?? crypto.randomUUID())
    await next()
  })
  app.onError(renderError)
  app.notFound((c) => renderError(new ApiError('NOT_FOUND', 'route not found'), c))

  app.route('/health', health)
  app.route('/api/agents', agentApi)
  mountPeople(app)
  return app
}
