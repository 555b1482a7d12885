/**
 * The one way a route group is built: an OpenAPIHono whose routes are defined once with `createRoute`
 * (validated by @hono/zod-openapi, listed in GET /api/openapi.json) and whose bad input answers in our
 * error shape `{ error, code, request_id, fields }`.
 */
import { OpenAPIHono, type RouteConfig } from '@hono/zod-openapi'
import type { Env as HonoEnv, MiddlewareHandler } from 'hono'
import { createMiddleware } from 'hono/factory'
import * as z from 'zod'
import type { AppEnv } from '../env'
import { ApiError, validationError } from '../errors'
import { readLimitedText } from './body-limit'

export const MAX_BODY_BYTES = 256 * 1024

/** Who may call an operation, as the document's `security` says it. */
export const SECURITY = {
  none: [],
  clientToken: [{ clientToken: [] }],
  person: [{ operator: [] }, { personalToken: [] }, { session: [] }],
} as const satisfies Record<string, RouteConfig['security']>

/** What every operation of a group shares unless its route says otherwise. */
export interface GroupDefaults {
  tag: 'agent' | 'admin' | 'client' | 'account'
  security: RouteConfig['security']
}

/** The defaults of each group: the agent API, the operator's API, the people-facing client API, one's account. */
export const AGENT_API: GroupDefaults = { tag: 'agent', security: SECURITY.clientToken }
export const ADMIN_API: GroupDefaults = { tag: 'admin', security: SECURITY.person }
export const CLIENT_API: GroupDefaults = { tag: 'client', security: SECURITY.person }
export const ACCOUNT_API: GroupDefaults = { tag: 'account', security: SECURITY.person }

const ERROR = { $ref: '#/components/responses/Error' }

/** The answers of an operation: its 200 (with the schema of the answer when one exists) and our errors. */
export function answers(description: string, schema?: z.ZodType, mediaType = 'application/json') {
  return {
    200: schema ? { description, content: { [mediaType]: { schema } } } : { description },
    400: ERROR,
    401: ERROR,
    403: ERROR,
    404: ERROR,
  }
}

/** A request body, read by `readBody` below whatever its Content-Type says. */
export function jsonBody<S extends z.ZodType>(schema: S) {
  return { required: true, content: { 'application/json': { schema } } } as const
}

/**
 * A new group; E is the env its middleware provides (e.g. the agent routes' `agent`). Each route gets
 * the group's tag and security, its path parameters as strings, and `readBody` before its body's
 * validator.
 */
export function routeGroup<E extends HonoEnv = AppEnv>(defaults: GroupDefaults): OpenAPIHono<E> {
  const group = new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues, WHERE[result.target] ?? result.target)
    },
  })
  const define = group.openapi
  group.openapi = ((route: RouteConfig, ...rest: unknown[]) =>
    (define as (...args: unknown[]) => unknown)(withDefaults(route, defaults), ...rest)) as typeof define
  return group
}

function withDefaults(route: RouteConfig, defaults: GroupDefaults): RouteConfig {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!)
  const params = names.length ? z.object(Object.fromEntries(names.map((n) => [n, z.string()]))) : undefined
  return {
    tags: [defaults.tag],
    security: defaults.security,
    ...route,
    request: { ...(params ? { params } : {}), ...route.request },
    middleware: route.request?.body ? [...asArray(route.middleware), readBody] : route.middleware,
  }
}

const WHERE: Partial<Record<string, string>> = { json: 'body', param: 'path' }

function asArray(middleware: RouteConfig['middleware']): MiddlewareHandler[] {
  if (middleware === undefined) return []
  return Array.isArray(middleware) ? middleware : [middleware as MiddlewareHandler]
}

/** A media type Hono's JSON validator reads (hono/validator's test, parameters allowed). */
const JSON_TYPE = /^\s*application\/([\w.-]+\+)?json\s*(;|$)/i

/**
 * The body as JSON whatever its Content-Type (installed agents send some without one); an empty body
 * is `{}`, malformed JSON a 400, over 256 KiB a 413 (declared or counted while reading: body-limit.ts).
 * The route's validator then reads this text: from Hono's body cache when the request says JSON, else
 * from a copy of the request marked JSON (the validator skips a body of another type).
 */
const readBody = createMiddleware(async (c, next) => {
  const text = await readLimitedText(c.req.raw, MAX_BODY_BYTES)
  if (text === null) throw new ApiError('PAYLOAD_TOO_LARGE', `body over ${MAX_BODY_BYTES} bytes`)
  const body = text.trim() === '' ? '{}' : text
  try {
    JSON.parse(body)
  } catch {
    throw new ApiError('BAD_REQUEST', 'malformed JSON body')
  }
  if (JSON_TYPE.test(c.req.header('content-type') ?? '')) {
    // What `c.req.json()` and `c.req.text()` read (a promise of the text, as Hono caches it).
    c.req.bodyCache.text = Promise.resolve(body) as never
  } else {
    const headers = new Headers(c.req.raw.headers)
    headers.set('content-type', 'application/json')
    c.req.raw = new Request(c.req.raw, { headers, body })
  }
  await next()
})
