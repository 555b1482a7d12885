/**
 * The middleware that establishes a request's principal (auth/principal.ts).
 * Agents authenticate with their agent token (verified agents) or their client's token (agent API
 * only). People authenticate with ADMIN_TOKEN (the operator, no DB row), a personal API token
 * (`sgp_...`) or a session cookie; a session's unsafe requests also need its CSRF token. A client token
 * never authenticates a person.
 */
import { and, eq, gt, isNull, or } from 'drizzle-orm'
import type { Context } from 'hono'
import { getCookie } from 'hono/cookie'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../env'
import { database, type Database } from '../db/client'
import { clients, clientTokens, type Client } from '../db/schema'
import { ApiError } from '../errors'
import { sha256Hex, timingSafeEqual } from '../ids'
import { agentTokenRow, isAgentToken, principalOfAgentToken } from './agent-tokens'
import { findPersonalToken, findSession, SESSION_COOKIE } from './sessions'
import { clock } from '../clock'
import type { Person } from './principal'

/** The bearer token of a request, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i)
  return match?.[1] ?? null
}

/** The active client owning a token; 401 for an unknown or expired token, 403 for a suspended client. */
export async function clientForToken(db: Database, token: string, now: number): Promise<Client> {
  const hash = await sha256Hex(token)
  const [row] = await clientTokenQuery(db, hash, now)
  return activeClientOf(row, hash)
}

/** The read of a client token's row and its client by the token's SHA-256 (alone, or in a batch). */
export function clientTokenQuery(db: Database, hash: string, now: number) {
  return db
    .select({ client: clients, tokenHash: clientTokens.tokenHash, expiresAt: clientTokens.expiresAt })
    .from(clientTokens)
    .innerJoin(clients, eq(clients.id, clientTokens.clientId))
    .where(
      and(
        eq(clientTokens.tokenHash, hash),
        or(isNull(clientTokens.expiresAt), gt(clientTokens.expiresAt, now)),
      ),
    )
    .limit(1)
}

/** The client of a row read by `clientTokenQuery` for `hash`; 401 without one, 403 suspended. */
export function activeClientOf(row: { client: Client; tokenHash: string } | undefined, hash: string): Client {
  if (!row || !timingSafeEqual(row.tokenHash, hash) || row.client.status === 'deleted') {
    throw new ApiError('UNAUTHORIZED', 'invalid or revoked token')
  }
  if (row.client.status === 'suspended') throw new ApiError('FORBIDDEN', 'client suspended')
  return row.client
}

/**
 * Requires an agent token (a verified agent: the principal names its agent and instance) or a client
 * token (agent API).
 */
export const agentAuth = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header('Authorization'))
  if (!token) throw new ApiError('UNAUTHORIZED', 'missing bearer token')
  const db = database(c.env.DB)
  if (isAgentToken(token)) {
    c.set('principal', principalOfAgentToken(await agentTokenRow(db, token)))
  } else {
    const client = await clientForToken(db, token, clock.now())
    c.set('principal', { kind: 'agent', clientId: client.id })
  }
  await next()
})

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
export const CSRF_HEADER = 'X-CSRF-Token'

/**
 * The person behind a request, or null when nobody is signed in. Sets `principal` (and `session` for a
 * cookie). Throws 401 for a bearer that is not a person's, 403 for a session request without its CSRF token.
 */
export async function resolvePerson(c: Context<AppEnv>): Promise<Person | null> {
  const db = database(c.env.DB)
  const now = clock.now()
  const token = bearerToken(c.req.header('Authorization'))
  if (token) {
    if (c.env.ADMIN_TOKEN && timingSafeEqual(token, c.env.ADMIN_TOKEN))
      return setPerson(c, { kind: 'admin', userId: null })
    const found = await findPersonalToken(db, token, now)
    if (!found) throw new ApiError('UNAUTHORIZED', 'invalid or revoked token')
    return setPerson(c, found.principal)
  }
  const cookie = getCookie(c, SESSION_COOKIE)
  if (!cookie) return null
  const session = await findSession(db, cookie, now)
  if (!session) return null
  if (!SAFE_METHODS.has(c.req.method)) {
    const sent = c.req.header(CSRF_HEADER) ?? ''
    if (!timingSafeEqual(sent, session.csrfToken))
      throw new ApiError('FORBIDDEN', 'missing or wrong CSRF token')
  }
  c.set('session', { id: session.id, csrfToken: session.csrfToken, email: session.user.email })
  return setPerson(c, session.principal)
}

function setPerson(c: Context<AppEnv>, person: Person): Person {
  c.set('principal', person)
  return person
}

/** Requires a signed-in person (people-facing API): 401 JSON otherwise, never a redirect. */
export const personAuth = createMiddleware<AppEnv>(async (c, next) => {
  if (!(await resolvePerson(c))) throw new ApiError('UNAUTHORIZED', 'authentication required')
  await next()
})

/** Requires an admin: ADMIN_TOKEN, an admin's personal token, or an admin session. */
export const operatorAuth = createMiddleware<AppEnv>(async (c, next) => {
  const person = await resolvePerson(c)
  if (!person) throw new ApiError('UNAUTHORIZED', 'authentication required')
  if (person.kind !== 'admin') throw new ApiError('FORBIDDEN', 'admin only')
  await next()
})

/** The signed-in person of a request that passed `personAuth` or `operatorAuth`. */
export function requirePerson(c: Context<AppEnv>): Person {
  const principal = c.get('principal')
  if (!principal || principal.kind === 'agent') throw new ApiError('UNAUTHORIZED', 'authentication required')
  return principal
}

/** True for an admin. */
export function isAdmin(person: Person): person is Extract<Person, { kind: 'admin' }> {
  return person.kind === 'admin'
}

/**
 * Checks that the person may see a client: an admin any, a user only their own. Another client's id
 * is answered like an unknown one (404), so ids never leak across tenants.
 */
export function scopeClient(c: Context<AppEnv>, clientId: string): Person {
  const person = requirePerson(c)
  if (person.kind === 'user' && person.clientId !== clientId)
    throw new ApiError('NOT_FOUND', 'client not found')
  return person
}

/** Like `scopeClient`, and the person may change it: an admin or the client's owner (viewers get 403). */
export function scopeClientWrite(c: Context<AppEnv>, clientId: string): Person {
  const person = scopeClient(c, clientId)
  if (person.kind === 'user' && person.role !== 'owner') throw new ApiError('FORBIDDEN', 'owners only')
  return person
}

/** The client a query must be limited to: the user's own, or null (all clients) for an admin. */
export function clientScopeOf(person: Person): string | null {
  return person.kind === 'user' ? person.clientId : null
}
