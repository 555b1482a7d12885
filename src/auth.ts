/**
 * Principals and the middleware that establishes them.
 * Agents authenticate with their client's token; people with ADMIN_TOKEN (the operator), and later sessions.
 */
import { and, eq, gt, isNull, or } from 'drizzle-orm'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from './env'
import { database, type Database } from './db/client'
import { clients, clientTokens, type Client } from './db/schema'
import { ApiError } from './errors'
import { sha256Hex, timingSafeEqual } from './ids'

export type Principal =
  | { kind: 'agent'; clientId: string }
  | { kind: 'admin'; userId: string | null }
  | { kind: 'user'; userId: string; clientId: string; role: 'owner' | 'viewer' }

/** The bearer token of a request, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i)
  return match?.[1] ?? null
}

/** The active client owning a token; 401 for an unknown or expired token, 403 for a suspended client. */
export async function clientForToken(db: Database, token: string, now: number): Promise<Client> {
  const hash = await sha256Hex(token)
  const [row] = await db
    .select({ client: clients, tokenHash: clientTokens.tokenHash })
    .from(clientTokens)
    .innerJoin(clients, eq(clients.id, clientTokens.clientId))
    .where(
      and(
        eq(clientTokens.tokenHash, hash),
        or(isNull(clientTokens.expiresAt), gt(clientTokens.expiresAt, now)),
      ),
    )
    .limit(1)
  if (!row || !timingSafeEqual(row.tokenHash, hash) || row.client.status === 'deleted') {
    throw new ApiError('UNAUTHORIZED', 'invalid or revoked token')
  }
  if (row.client.status === 'suspended') throw new ApiError('FORBIDDEN', 'client suspended')
  return row.client
}

/** Requires a client token (agent API). */
export const agentAuth = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header('Authorization'))
  if (!token) throw new ApiError('UNAUTHORIZED', 'missing bearer token')
  const client = await clientForToken(database(c.env.DB), token, Date.now())
  c.set('principal', { kind: 'agent', clientId: client.id })
  await next()
})

/** Requires the operator's ADMIN_TOKEN (people-facing API). */
export const operatorAuth = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header('Authorization'))
  if (!token || !c.env.ADMIN_TOKEN || !timingSafeEqual(token, c.env.ADMIN_TOKEN)) {
    throw new ApiError('UNAUTHORIZED', 'authentication required')
  }
  c.set('principal', { kind: 'admin', userId: null })
  await next()
})
