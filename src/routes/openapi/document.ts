/** GET /api/openapi.json: the OpenAPI 3.1 document, generated from the zod schemas of every route (public). */
import { Hono } from 'hono'
import * as z from 'zod'
import type { AppEnv } from '../../env'
import { AGENT_OPERATIONS } from './agent-operations'
import type { Auth, Operation } from './operations'
import { PEOPLE_OPERATIONS } from './people-operations'

const OPERATIONS = [...AGENT_OPERATIONS, ...PEOPLE_OPERATIONS]

const SECURITY: Record<Auth, Record<string, string[]>[]> = {
  none: [],
  'client-token': [{ clientToken: [] }],
  admin: [{ operator: [] }, { personalToken: [] }, { session: [] }],
  person: [{ operator: [] }, { personalToken: [] }, { session: [] }],
}

/** JSON Schema of a zod schema as the request accepts it; lenient readers that can't be expressed become `{}`. */
function schemaOf(schema: z.ZodType): Record<string, unknown> {
  try {
    const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
      io: 'input',
      unrepresentable: 'any',
    }) as Record<string, unknown>
    return rest
  } catch {
    return {}
  }
}

function parameters(op: Operation) {
  const inPath = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }))
  const props = op.query ? ((schemaOf(op.query).properties ?? {}) as Record<string, unknown>) : {}
  return [
    ...inPath,
    ...Object.entries(props).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
  ]
}

export function openApiDocument(serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const op of OPERATIONS) {
    paths[op.path] ??= {}
    paths[op.path]![op.method] = {
      tags: [op.tag],
      summary: op.summary,
      security: SECURITY[op.auth],
      parameters: parameters(op),
      ...(op.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(op.body) } } } }
        : {}),
      responses: {
        '200': { description: 'OK (JSON; camelCase on the people-facing API, snake_case on the agent API)' },
        '400': { $ref: '#/components/responses/Error' },
        '401': { $ref: '#/components/responses/Error' },
        '403': { $ref: '#/components/responses/Error' },
        '404': { $ref: '#/components/responses/Error' },
      },
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'SpotGuard API',
      version: '1.0.0',
      description:
        'Agent API (client token) and the people-facing API of the dashboard (operator token, personal token or session + X-CSRF-Token).',
    },
    servers: [{ url: serverUrl }],
    tags: [{ name: 'agent' }, { name: 'admin' }, { name: 'client' }, { name: 'account' }],
    paths,
    components: {
      securitySchemes: {
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
      },
      responses: {
        Error: {
          description: 'Error',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  error: { type: 'string' },
                  code: { type: 'string' },
                  request_id: { type: 'string' },
                },
                required: ['error', 'code'],
              },
            },
          },
        },
      },
    },
  }
}

export const openApi = new Hono<AppEnv>()
openApi.get('/', (c) => c.json(openApiDocument(new URL(c.req.url).origin)))
