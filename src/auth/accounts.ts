/**
 * Dashboard accounts: creating admins and client users, one-time invitations, password changes.
 * Writes: `users`, `user_invites`.
 */
import { and, eq, gt, isNull, sql } from 'drizzle-orm'
import type { Context } from 'hono'
import * as z from 'zod'
import type { Database } from '../db/client'
import { userInvites, users, type User } from '../db/schema'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { newId, newToken, sha256Hex } from '../ids'
import { auditEntry } from '../db/audit'
import { hashPassword } from './password'
import { revokeUserSessions, revokeUserTokens } from './sessions'

/** Invitations expire after 7 days (ms). */
export const INVITE_TTL_MS = 7 * 24 * 3600_000

export const Email = z.string().trim().toLowerCase().max(254).pipe(z.email())
export const Password = z.string().min(12, 'at least 12 characters').max(200)
export const NewUser = z.object({
  email: Email,
  name: z.string().trim().max(120).optional(),
  role: z.enum(['owner', 'viewer']).default('viewer'),
})
export type NewUser = z.infer<typeof NewUser>

/** Public fields of a user (never the hash or salt). */
export function publicUser(u: User) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    clientId: u.clientId,
    createdAt: u.createdAt,
    disabledAt: u.disabledAt,
  }
}

/** Creates an admin with a password (the first one is created with ADMIN_TOKEN). 409 on a taken e-mail. */
export async function createAdmin(db: Database, email: string, password: string, now: number): Promise<User> {
  const { hash, salt } = await hashPassword(password)
  return insertUser(db, {
    id: newId('usr'),
    email,
    name: null,
    role: 'admin',
    clientId: null,
    passwordHash: hash,
    passwordSalt: salt,
    createdAt: now,
    disabledAt: null,
  })
}

/**
 * Invites a user of a client: the account exists without a usable password until the invitee opens
 * the link (the token is returned once; its hash is stored).
 */
export async function inviteUser(
  db: Database,
  clientId: string | null,
  input: NewUser & { role: User['role'] },
  by: string | null,
  now: number,
) {
  const user = await insertUser(db, {
    id: newId('usr'),
    email: input.email,
    name: input.name ?? null,
    role: input.role,
    clientId,
    // '!' never matches a PBKDF2 hex digest: no password works until the invite is accepted.
    passwordHash: '!',
    passwordSalt: '!',
    createdAt: now,
    disabledAt: null,
  })
  const token = newToken('inv')
  await db.insert(userInvites).values({
    id: await sha256Hex(token),
    userId: user.id,
    createdBy: by,
    createdAt: now,
    expiresAt: now + INVITE_TTL_MS,
  })
  return { user, inviteToken: token }
}

/** The user of a live invitation token, or null. */
export async function findInvite(db: Database, token: string, now: number) {
  const [row] = await db
    .select({ invite: userInvites, user: users })
    .from(userInvites)
    .innerJoin(users, eq(users.id, userInvites.userId))
    .where(
      and(
        eq(userInvites.id, await sha256Hex(token)),
        gt(userInvites.expiresAt, now),
        isNull(userInvites.usedAt),
        isNull(users.disabledAt),
      ),
    )
    .limit(1)
  return row ?? null
}

/** Sets the invitee's password and spends the invitation. */
export async function acceptInvite(
  db: Database,
  token: string,
  password: string,
  now: number,
): Promise<User> {
  const found = await findInvite(db, token, now)
  if (!found) throw new ApiError('NOT_FOUND', 'invitation not found or expired')
  const { hash, salt } = await hashPassword(password)
  await db.batch([
    db.update(users).set({ passwordHash: hash, passwordSalt: salt }).where(eq(users.id, found.user.id)),
    db.update(userInvites).set({ usedAt: now }).where(eq(userInvites.id, found.invite.id)),
  ])
  return found.user
}

/**
 * Changes a password, ends every other session of the user and revokes their personal API tokens
 * (whoever held the old password may have opened either); `keepSession` is the session making the change.
 */
export async function changePassword(
  db: Database,
  userId: string,
  password: string,
  now: number,
  keepSession?: string,
) {
  const { hash, salt } = await hashPassword(password)
  await db.batch([
    db.update(users).set({ passwordHash: hash, passwordSalt: salt }).where(eq(users.id, userId)),
    revokeUserSessions(db, userId, now, keepSession),
    revokeUserTokens(db, userId, now),
  ])
}

/** True when no admin account exists yet (the setup page is open, behind ADMIN_TOKEN). */
export async function hasNoAdmin(db: Database): Promise<boolean> {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(users)
    .where(eq(users.role, 'admin'))
  return (row?.n ?? 0) === 0
}

/** A user by e-mail, for login. */
export async function userByEmail(db: Database, email: string): Promise<User | null> {
  const [row] = await db.select().from(users).where(eq(users.email, email)).limit(1)
  return row ?? null
}

async function insertUser(db: Database, row: User): Promise<User> {
  if (await userByEmail(db, row.email)) throw new ApiError('CONFLICT', 'a user with this e-mail exists')
  await db.insert(users).values(row)
  return row
}

/** Disables a user the caller found in its scope: no more sign-in, every session ended, audited; one batch. */
export async function disableUser(c: Context<AppEnv>, db: Database, user: User, now: number): Promise<void> {
  await db.batch([
    db.update(users).set({ disabledAt: now }).where(eq(users.id, user.id)),
    revokeUserSessions(db, user.id, now),
    auditEntry(
      c,
      db,
      {
        action: 'user.disable',
        clientId: user.clientId,
        targetType: 'user',
        targetId: user.id,
        before: publicUser(user),
        after: { disabledAt: now },
      },
      now,
    ),
  ])
}
