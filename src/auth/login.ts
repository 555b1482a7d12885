/**
 * Checking a sign-in: a rate-limit slot is taken before the password is looked at (rate-limit.ts), and
 * every attempt derives PBKDF2 once, against the user's hash or a fixed dummy one, so an unknown,
 * disabled or not-yet-invited e-mail answers as slowly as a known one.
 */
import type { Database } from '../db/client'
import type { User } from '../db/schema'
import { userByEmail } from './accounts'
import { verifyPassword, type PasswordHash } from './password'
import { clearSlots, loginLimit, takeSlot } from './rate-limit'
import { principalOfUser, type ActiveSession } from './sessions'

/** A hash no password is known for (derived once from random bytes); only its cost matters. */
const DUMMY_HASH: PasswordHash = {
  hash: '5f1c2b7e0d8a4c3e9b6f2a1d7c4e8b0a3f6d9c2e5b8a1f4d7c0e3b6a9d2f5c8e',
  salt: '8c3f1a6e2d9b4f7a0c5e8d1b6a3f9c2e',
}

export type LoginCheck =
  | { ok: true; user: User; principal: ActiveSession['principal'] }
  | { ok: false; reason: 'rate_limited' | 'wrong' }

export interface LoginAttempt {
  /** The e-mail as typed (normalized when it parsed); the rate limit's key either way. */
  email: string
  isEmail: boolean
  password: string
  ip: string
}

/** Checks one attempt; `verify` is injected by tests that count the derivations. */
export async function checkLogin(
  db: Database,
  attempt: LoginAttempt,
  now: number,
  verify: typeof verifyPassword = verifyPassword,
): Promise<LoginCheck> {
  if (!(await takeSlot(db, loginLimit(attempt.email, attempt.ip), now))) {
    return { ok: false, reason: 'rate_limited' }
  }
  const user = attempt.isEmail ? await userByEmail(db, attempt.email) : null
  const stored = user ? { hash: user.passwordHash, salt: user.passwordSalt } : DUMMY_HASH
  const matches = await verify(attempt.password, stored)
  const principal = user && user.disabledAt === null ? principalOfUser(user) : null
  if (!user || !principal || !matches) return { ok: false, reason: 'wrong' }
  await clearSlots(db, 'login', attempt.email, attempt.ip)
  return { ok: true, user, principal }
}
