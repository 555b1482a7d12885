/**
 * Login rate limit, counted from the failed attempts that the audit log already records
 * (`auth.login_failed`, target = the e-mail, actor = the client IP): no extra state to keep.
 */
import { and, count, eq, gt } from 'drizzle-orm'
import type { Database } from '../db/client'
import { auditLog } from '../db/schema'
import { loginFailureEntry } from '../db/audit'

/** Window of the limit (ms). */
export const LOGIN_WINDOW_MS = 15 * 60_000
export const MAX_FAILURES_PER_EMAIL = 5
export const MAX_FAILURES_PER_IP = 20

/** True when another attempt for this e-mail from this address may be checked. */
export async function isLoginAllowed(db: Database, email: string, ip: string, now: number): Promise<boolean> {
  const since = now - LOGIN_WINDOW_MS
  const [byEmail] = await db
    .select({ n: count() })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.action, 'auth.login_failed'),
        gt(auditLog.createdAt, since),
        eq(auditLog.targetId, email),
      ),
    )
  const [byIp] = await db
    .select({ n: count() })
    .from(auditLog)
    .where(
      and(eq(auditLog.action, 'auth.login_failed'), gt(auditLog.createdAt, since), eq(auditLog.actorId, ip)),
    )
  return (byEmail?.n ?? 0) < MAX_FAILURES_PER_EMAIL && (byIp?.n ?? 0) < MAX_FAILURES_PER_IP
}

/** Records a failed attempt (an audit entry with no principal). */
export async function recordLoginFailure(
  db: Database,
  email: string,
  ip: string,
  requestId: string,
  now: number,
) {
  await loginFailureEntry(db, { email, ip, requestId }, now)
}
