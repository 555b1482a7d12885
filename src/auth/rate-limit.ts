/**
 * Rate limits as slots taken before the work they guard: one INSERT ... SELECT ... WHERE counts the
 * window and records the attempt in the same statement, so parallel requests cannot all pass a check
 * made before any of them was recorded. A slot counts against three limits: its (subject, detail)
 * pair, its subject and its detail.
 * Writes: `rate_slots`.
 */
import { and, eq, lt, sql } from 'drizzle-orm'
import type { Database } from '../db/client'
import { rateSlots } from '../db/schema'
import { newId } from '../ids'

/** Slots older than this are deleted (ms); longer than every window below. */
const KEEP_MS = 3600_000

/** Login: window and limits of failed or pending attempts (docs/trust-model.md). */
export const LOGIN_WINDOW_MS = 15 * 60_000
/** Per (client IP, e-mail): the limit one address meets for one account. */
export const LOGIN_MAX_PER_IP_AND_EMAIL = 5
/** Per e-mail, from every address: the ceiling that stops a spread-out attack on one account. */
export const LOGIN_MAX_PER_EMAIL = 50
/** Per client IP, over every e-mail: one address spraying many accounts. */
export const LOGIN_MAX_PER_IP = 20

/** Webhook test sends per client. */
export const WEBHOOK_TEST_WINDOW_MS = 10 * 60_000
export const WEBHOOK_TEST_MAX = 5

export interface Limit {
  scope: string
  subject: string
  detail: string
  windowMs: number
  perPair: number
  perSubject: number
  /** Omitted: the detail is not limited on its own. */
  perDetail?: number
}

/** Takes a slot; the id of the slot, or null when a limit is reached (nothing recorded then). */
export async function takeSlot(db: Database, limit: Limit, now: number): Promise<string | null> {
  const id = newId('rsl')
  const since = now - limit.windowMs
  const within = sql`${rateSlots.scope} = ${limit.scope} and ${rateSlots.createdAt} > ${since}`
  const count = (where: ReturnType<typeof sql>) =>
    sql`(select count(*) from ${rateSlots} where ${within} and ${where})`
  const perDetail =
    limit.perDetail === undefined
      ? sql``
      : sql` and ${count(sql`${rateSlots.detail} = ${limit.detail}`)} < ${limit.perDetail}`
  await db.delete(rateSlots).where(lt(rateSlots.createdAt, now - KEEP_MS))
  const taken = await db.all(sql`
      insert into ${rateSlots} (id, scope, subject, detail, created_at)
      select ${id}, ${limit.scope}, ${limit.subject}, ${limit.detail}, ${now}
      where ${count(sql`${rateSlots.subject} = ${limit.subject} and ${rateSlots.detail} = ${limit.detail}`)} < ${limit.perPair}
        and ${count(sql`${rateSlots.subject} = ${limit.subject}`)} < ${limit.perSubject}${perDetail}
      returning id`)
  return taken.length > 0 ? id : null
}

/** Gives back every slot of a (subject, detail) pair: a login that succeeded clears its address's count. */
export async function clearSlots(db: Database, scope: string, subject: string, detail: string) {
  await db
    .delete(rateSlots)
    .where(and(eq(rateSlots.scope, scope), eq(rateSlots.subject, subject), eq(rateSlots.detail, detail)))
}

/** The login limit of an attempt for `email` from `ip`. */
export function loginLimit(email: string, ip: string): Limit {
  return {
    scope: 'login',
    subject: email,
    detail: ip,
    windowMs: LOGIN_WINDOW_MS,
    perPair: LOGIN_MAX_PER_IP_AND_EMAIL,
    perSubject: LOGIN_MAX_PER_EMAIL,
    perDetail: LOGIN_MAX_PER_IP,
  }
}

/** The limit of a client's webhook test sends. */
export function webhookTestLimit(clientId: string): Limit {
  return {
    scope: 'webhook_test',
    subject: clientId,
    detail: '',
    windowMs: WEBHOOK_TEST_WINDOW_MS,
    perPair: WEBHOOK_TEST_MAX,
    perSubject: WEBHOOK_TEST_MAX,
  }
}
