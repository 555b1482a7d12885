/** The signed-in person: who am I, password change, personal API tokens (`/api/me`). */
import { and, desc, eq, isNull } from 'drizzle-orm'
import { createRoute } from '@hono/zod-openapi'
import { ACCOUNT_API, answers, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { personAuth, requirePerson } from '../../auth/middleware'
import type { Person } from '../../auth/principal'
import { database } from '../../db/client'
import { apiTokens, users } from '../../db/schema'
import type { AppEnv } from '../../env'
import { ApiError } from '../../errors'
import { auditEntry } from '../../db/audit'
import { changePassword, Password, publicUser } from '../../auth/accounts'
import { verifyPassword } from '../../auth/password'
import { newPersonalToken, revokePersonalToken } from '../../auth/sessions'
import { clock } from '../../clock'

export const NewTokenBody = z.object({ name: z.string().trim().min(1).max(80) })
export const PasswordBody = z.object({ currentPassword: z.string().max(200), newPassword: Password })

function userIdOf(person: Person): string {
  if (person.kind === 'admin' && person.userId === null)
    throw new ApiError('BAD_REQUEST', 'the operator token has no account')
  return person.userId as string
}

export const me = routeGroup<AppEnv>(ACCOUNT_API)
me.use(personAuth)

me.openapi(
  createRoute({ method: 'get', path: '/', summary: 'Who am I', responses: answers('OK') }),
  async (c) => {
    const person = requirePerson(c)
    if (person.kind === 'admin' && person.userId === null)
      return c.json({ kind: 'operator', role: 'admin', clientId: null })
    const [user] = await database(c.env.DB)
      .select()
      .from(users)
      .where(eq(users.id, userIdOf(person)))
      .limit(1)
    return c.json({ kind: person.kind, ...publicUser(user!) })
  },
)

me.openapi(
  createRoute({
    method: 'post',
    path: '/password',
    summary: 'Change the password (ends every other session and every personal token)',
    request: { body: jsonBody(PasswordBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const userId = userIdOf(requirePerson(c))
    const body = c.req.valid('json')
    const db = database(c.env.DB)
    const [user] = await db.select().from(users).where(eq(users.id, userId)).limit(1)
    if (
      !user ||
      !(await verifyPassword(body.currentPassword, { hash: user.passwordHash, salt: user.passwordSalt }))
    ) {
      throw new ApiError('FORBIDDEN', 'current password is wrong')
    }
    const now = clock.now()
    await changePassword(db, userId, body.newPassword, now, c.get('session')?.id)
    await auditEntry(
      c,
      db,
      { action: 'user.password', clientId: user.clientId, targetType: 'user', targetId: userId },
      now,
    )
    return c.json({
      success: true,
      message: 'password changed; other sessions and personal tokens were revoked',
    })
  },
)

me.openapi(
  createRoute({ method: 'get', path: '/tokens', summary: 'Personal API tokens', responses: answers('OK') }),
  async (c) => {
    const userId = userIdOf(requirePerson(c))
    const rows = await database(c.env.DB)
      .select({
        id: apiTokens.id,
        name: apiTokens.name,
        prefix: apiTokens.prefix,
        createdAt: apiTokens.createdAt,
        lastUsedAt: apiTokens.lastUsedAt,
      })
      .from(apiTokens)
      .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
      .orderBy(desc(apiTokens.createdAt))
    return c.json(rows)
  },
)

me.openapi(
  createRoute({
    method: 'post',
    path: '/tokens',
    summary: 'New personal token (shown once)',
    request: { body: jsonBody(NewTokenBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const person = requirePerson(c)
    const userId = userIdOf(person)
    const { name } = c.req.valid('json')
    const db = database(c.env.DB)
    const { token, row, insert } = await newPersonalToken(db, userId, name, clock.now())
    await db.batch([
      insert,
      auditEntry(
        c,
        db,
        {
          action: 'token.create',
          clientId: person.kind === 'user' ? person.clientId : null,
          targetType: 'api_token',
          targetId: row.id,
          after: { name, prefix: row.prefix },
        },
        row.createdAt,
      ),
    ])
    return c.json({ success: true, id: row.id, name, token, message: 'shown once: store it now' }, 201)
  },
)

me.openapi(
  createRoute({
    method: 'delete',
    path: '/tokens/{id}',
    summary: 'Revoke a token',
    responses: answers('OK'),
  }),
  async (c) => {
    const person = requirePerson(c)
    const userId = userIdOf(person)
    const db = database(c.env.DB)
    const [tok] = await db
      .select()
      .from(apiTokens)
      .where(
        and(eq(apiTokens.id, c.req.param('id')), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)),
      )
      .limit(1)
    if (!tok) throw new ApiError('NOT_FOUND', 'token not found')
    const now = clock.now()
    await db.batch([
      revokePersonalToken(db, tok.id, now),
      auditEntry(
        c,
        db,
        {
          action: 'token.revoke',
          clientId: person.kind === 'user' ? person.clientId : null,
          targetType: 'api_token',
          targetId: tok.id,
          before: { name: tok.name },
        },
        now,
      ),
    ])
    return c.json({ success: true })
  },
)
