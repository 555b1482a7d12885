/**
 * The audit log: who did what, with the state before and after; each mutating route of the
 * people-facing API batches its entry with the change itself; a failed login is an entry with no
 * principal (auth/rate-limit.ts counts them).
 * Writes: `audit_log`.
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

/** An insert of a failed login: no principal, the client's IP as actor, the e-mail as target. */
export function loginFailureEntry(
  db: Database,
  facts: { email: string; ip: string; requestId: string },
  now: number,
) {
  return db.insert(auditLog).values({
    id: newId('aud'),
    actorType: 'anonymous',
    actorId: facts.ip,
    action: 'auth.login_failed',
    targetType: 'user',
    targetId: facts.email,
    requestId: facts.requestId,
    createdAt: now,
  })
}
