/**
 * The audit log: who did what, with the state before and after; each mutating route of the
 * people-facing API batches its entry with the change itself.
 * Writes: `audit_log` (auth/rate-limit.ts still inserts its failed-login entries itself).
 */
import type { Context } from 'hono'
import type { AppEnv } from '../env'
import type { Principal } from '../auth/principal'
import type { Database } from './client'
import { auditLog } from './schema'
import { newId } from '../ids'
import { clock } from '../clock'

export interface AuditFacts {
  action: string
  clientId?: string | null
  targetType?: string
  targetId?: string | null
  before?: unknown
  after?: unknown
}

/** Actor columns of a principal. */
export function actorOf(principal: Principal): { actorType: string; actorId: string | null } {
  switch (principal.kind) {
    case 'admin':
      return { actorType: principal.userId ? 'admin' : 'operator', actorId: principal.userId }
    case 'user':
      return { actorType: principal.role, actorId: principal.userId }
    case 'agent':
      return { actorType: 'agent', actorId: principal.clientId }
    default: {
      const never: never = principal
      return never
    }
  }
}

/** An insert of one audit entry by the request's principal, to put in the route's `db.batch`. */
export function auditEntry(c: Context<AppEnv>, db: Database, facts: AuditFacts, now = clock.now()) {
  return db.insert(auditLog).values({
    id: newId('aud'),
    ...actorOf(c.get('principal')),
    clientId: facts.clientId ?? null,
    action: facts.action,
    targetType: facts.targetType ?? null,
    targetId: facts.targetId ?? null,
    before: facts.before ?? null,
    after: facts.after ?? null,
    requestId: c.get('requestId'),
    createdAt: now,
  })
}
