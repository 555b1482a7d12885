/**
 * GET /api/openapi.json: the OpenAPI 3.1 document derived from the routes the app mounts (public).
 * Each route states its own summary, body, query and security where it is defined (routes/group.ts).
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { Env as HonoEnv } from 'hono'

const SECURITY_SCHEMES = {
  clientToken: {
    type: 'http',
    scheme: 'bearer',
    description: "A client's agent token; opens the agent API only",
  },
  operator: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
  personalToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'A personal API token (sgp_...) of an admin or client user',
  },
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: 'sg_session',
    description: 'Browser session; unsafe methods also need X-CSRF-Token',
  },
} as const

const ERROR_RESPONSE = {
  description: 'Error',
  content: {
    'application/json': {
      schema: {
        type: 'object' as const,
        properties: {
          error: { type: 'string' as const },
          code: { type: 'string' as const },
          request_id: { type: 'string' as const },
        },
        required: ['error', 'code'],
      },
    },
  },
}

const documentRoute = createRoute({
  method: 'get',
  path: '/api/openapi.json',
  tags: ['account'],
  summary: 'This document',
  security: [],
  responses: { 200: { description: 'The OpenAPI 3.1 document' } },
})

/** Serves the document of `app`: every route mounted on it, before or after this call (built per request). */
export function serveOpenApi<E extends HonoEnv>(app: OpenAPIHono<E>): void {
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) {
    app.openAPIRegistry.registerComponent('securitySchemes', name, scheme)
  }
  app.openAPIRegistry.registerComponent('responses', 'Error', ERROR_RESPONSE)
  app.openapi(documentRoute, (c) =>
    c.json(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: {
          title: 'SpotGuard API',
          version: '1.0.0',
          description:
            'Agent API (client token) and the people-facing API of the dashboard (operator token, personal token or session + X-CSRF-Token).',
        },
        servers: [{ url: new URL(c.req.url).origin }],
        tags: [{ name: 'agent' }, { name: 'admin' }, { name: 'client' }, { name: 'account' }],
      }),
    ),
  )
}
