/**
 * Browser sessions and personal API tokens, both stored as SHA-256 hashes in D1.
 * Writes: `sessions`, `api_tokens`.
 */
import { and, eq, gt, isNull, ne } from 'drizzle-orm'
import type { Principal } from './principal'
import type { Database } from '../db/client'
import { apiTokens, clients, sessions, users, type User } from '../db/schema'
import { newId, newToken, sha256Hex } from '../ids'

export const SESSION_COOKIE = 'sg_session'
/** Sessions end after 12 hours (ms). */
export const SESSION_TTL_MS = 12 * 3600_000
/** Prefix of personal API tokens; client (agent) tokens never carry it and are never looked up here. */
export const PERSONAL_TOKEN_PREFIX = 'sgp'

export interface ActiveSession {
  id: string
  csrfToken: string
  principal: Exclude<Principal, { kind: 'agent' }>
  user: User
}

/** The principal of a dashboard user row; null for a user of a deleted client. */
export function principalOfUser(user: User): ActiveSession['principal'] | null {
  if (user.role === 'admin') return { kind: 'admin', userId: user.id }
  if (!user.clientId) return null
  return { kind: 'user', userId: user.id, clientId: user.clientId, role: user.role }
}

/** Opens a session; returns the cookie value (shown to the browser only) and its CSRF token. */
export async function openSession(db: Database, userId: string, now: number) {
  const cookie = newToken('sgs')
  const csrfToken = newToken('csrf')
  await db.insert(sessions).values({
    id: await sha256Hex(cookie),
    userId,
    csrfToken,
    createdAt: now,
    expiresAt: now + SESSION_TTL_MS,
  })
  return { cookie, csrfToken }
}

/** The live session of a cookie value, or null (expired, revoked, disabled user, deleted client). */
export async function findSession(db: Database, cookie: string, now: number): Promise<ActiveSession | null> {
  const [row] = await db
    .select({ session: sessions, user: users, clientStatus: clients.status })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .leftJoin(clients, eq(clients.id, users.clientId))
    .where(
      and(eq(sessions.id, await sha256Hex(cookie)), gt(sessions.expiresAt, now), isNull(sessions.revokedAt)),
    )
    .limit(1)
  if (!row || row.user.disabledAt !== null || row.clientStatus === 'deleted') return null
  const principal = principalOfUser(row.user)
  return principal && { id: row.session.id, csrfToken: row.session.csrfToken, principal, user: row.user }
}

/** Ends one session (logout). */
export async function revokeSession(db: Database, sessionId: string, now: number): Promise<void> {
  await db.update(sessions).set({ revokedAt: now }).where(eq(sessions.id, sessionId))
}

/** Ends every session of a user (disable), or every one but `keep` (the one changing the password). */
export function revokeUserSessions(db: Database, userId: string, now: number, keep?: string) {
  return db
    .update(sessions)
    .set({ revokedAt: now })
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        keep === undefined ? undefined : ne(sessions.id, keep),
      ),
    )
}

/** Revokes every personal API token of a user (a password change: a stolen token dies with the old password). */
export function revokeUserTokens(db: Database, userId: string, now: number) {
  return db
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
}

/** The user behind a personal API token, or null. */
export async function findPersonalToken(db: Database, token: string, now: number) {
  if (!token.startsWith(`${PERSONAL_TOKEN_PREFIX}_`)) return null
  const hash = await sha256Hex(token)
  const [row] = await db
    .select({ token: apiTokens, user: users, clientStatus: clients.status })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .leftJoin(clients, eq(clients.id, users.clientId))
    .where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt)))
    .limit(1)
  if (!row || row.user.disabledAt !== null || row.clientStatus === 'deleted') return null
  const principal = principalOfUser(row.user)
  if (!principal) return null
  // Last use is informative only: write it at most once a minute.
  if (!row.token.lastUsedAt || now - row.token.lastUsedAt > 60_000) {
    await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.token.id))
  }
  return { principal, user: row.user }
}

/** A new personal token of `userId` and the insert that stores its hash (for the caller's batch). */
export async function newPersonalToken(db: Database, userId: string, name: string, now: number) {
  const token = newToken(PERSONAL_TOKEN_PREFIX)
  const row = {
    id: newId('tok'),
    userId,
    name,
    tokenHash: await sha256Hex(token),
    prefix: token.slice(0, 10),
    createdAt: now,
  }
  return { token, row, insert: db.insert(apiTokens).values(row) }
}

/** The update revoking one personal token (for the caller's batch). */
export function revokePersonalToken(db: Database, tokenId: string, now: number) {
  return db.update(apiTokens).set({ revokedAt: now }).where(eq(apiTokens.id, tokenId))
}
