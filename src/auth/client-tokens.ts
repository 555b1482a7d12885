/**
 * Client (agent) tokens: shown once, stored as a SHA-256 hash with a short visible prefix.
 * Rotation keeps the old tokens working for a grace period so running agents can be re-configured.
 * Writes: `client_tokens`.
 */
import { and, eq, gt, isNull, or } from 'drizzle-orm'
import type { Database } from '../db/client'
import { clientTokens } from '../db/schema'
import { newId, newToken, sha256Hex } from '../ids'

/** A new token and the insert that stores its hash (for the caller's batch). */
export async function newClientToken(db: Database, clientId: string, now: number) {
  const token = newToken('sgc')
  const insert = db.insert(clientTokens).values({
    id: newId('ctk'),
    clientId,
    tokenHash: await sha256Hex(token),
    prefix: token.slice(0, 12),
    createdAt: now,
    expiresAt: null,
  })
  return { token, insert }
}

/** The update ending the client's current tokens at `expiresAt` (earlier expiries are kept). */
export function expireTokens(db: Database, clientId: string, expiresAt: number) {
  return db
    .update(clientTokens)
    .set({ expiresAt })
    .where(
      and(
        eq(clientTokens.clientId, clientId),
        or(isNull(clientTokens.expiresAt), gt(clientTokens.expiresAt, expiresAt)),
      ),
    )
}
