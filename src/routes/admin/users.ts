/** Admin accounts (`/api/admin/users`): list, create (the first with ADMIN_TOKEN), disable; client users too. */
import { eq } from 'drizzle-orm'
import { createRoute } from '@hono/zod-openapi'
import { ADMIN_API, answers, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { requirePerson } from '../../auth/middleware'
import { database } from '../../db/client'
import { users } from '../../db/schema'
import type { AppEnv } from '../../env'
import { ApiError } from '../../errors'
import { auditEntry } from '../../db/audit'
import { createAdmin, disableUser, Email, Password, publicUser } from '../../auth/accounts'
import { clock } from '../../clock'

export const NewAdminBody = z.object({ email: Email, password: Password })

export const adminUsers = routeGroup<AppEnv>(ADMIN_API)

adminUsers.openapi(
  createRoute({ method: 'get', path: '/users', summary: 'Every account', responses: answers('OK') }),
  async (c) => {
    const rows = await database(c.env.DB).select().from(users).orderBy(users.role, users.email).limit(500)
    return c.json(rows.map(publicUser))
  },
)

adminUsers.openapi(
  createRoute({
    method: 'post',
    path: '/users',
    summary: 'Create an admin (the first one with ADMIN_TOKEN)',
    request: { body: jsonBody(NewAdminBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const db = database(c.env.DB)
    const now = clock.now()
    const user = await createAdmin(db, body.email, body.password, now)
    await auditEntry(
      c,
      db,
      { action: 'user.create_admin', targetType: 'user', targetId: user.id, after: publicUser(user) },
      now,
    )
    return c.json({ success: true, user: publicUser(user) }, 201)
  },
)

adminUsers.openapi(
  createRoute({
    method: 'post',
    path: '/users/{userId}/disable',
    summary: 'Disable an account and end its sessions',
    responses: answers('OK'),
  }),
  async (c) => {
    const person = requirePerson(c)
    const db = database(c.env.DB)
    const [user] = await db
      .select()
      .from(users)
      .where(eq(users.id, c.req.param('userId')))
      .limit(1)
    if (!user) throw new ApiError('NOT_FOUND', 'user not found')
    if (person.kind === 'admin' && person.userId === user.id)
      throw new ApiError('CONFLICT', 'you cannot disable yourself')
    await disableUser(c, db, user, clock.now())
    return c.json({ success: true })
  },
)
