/**
 * The operator's client-token routes: create a client (its token is shown
 * only in this answer) and regenerate its token (the old one keeps working for TOKEN_GRACE_HOURS, or
 * stops at once when the operator says it leaked).
 */
import { eq } from 'drizzle-orm'
import { createRoute } from '@hono/zod-openapi'
import { ADMIN_API, answers, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { expireTokens, newClientToken } from '../../auth/client-tokens'
import { database } from '../../db/client'
import { clients } from '../../db/schema'
import { insertClient } from '../../flows/clients'
import { forgetClientTokens } from '../../flows/credentials'
import { settingsOf, type AppEnv } from '../../env'
import { ApiError } from '../../errors'
import { newId } from '../../ids'
import { auditEntry } from '../../db/audit'
import { clock } from '../../clock'

export const CreateClientBody = z.object({
  name: z.string().trim().min(1).max(200),
  email: z.email().max(320).nullish(),
})

/** `revokeNow`: the previous tokens stop at once (a leaked token), instead of after the grace period. */
export const RotateTokenBody = z.object({ revokeNow: z.boolean().default(false) })

export const adminClients = routeGroup<AppEnv>(ADMIN_API)

adminClients.openapi(
  createRoute({
    method: 'post',
    path: '/clients/create',
    summary: 'Create a client; its agent token is in this answer only',
    request: { body: jsonBody(CreateClientBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const db = database(c.env.DB)
    const now = clock.now()
    const id = newId('cli')
    const { token, insert } = await newClientToken(db, id, now)
    const client = { id, name: body.name, email: body.email ?? null, status: 'active' as const }
    await db.batch([
      insertClient(db, client, now),
      insert,
      auditEntry(
        c,
        db,
        { action: 'client.create', clientId: id, targetType: 'client', targetId: id, after: client },
        now,
      ),
    ])
    return c.json(
      { success: true, client: { id, name: client.name, email: client.email, token, status: client.status } },
      201,
    )
  },
)

adminClients.openapi(
  createRoute({
    method: 'post',
    path: '/clients/{clientId}/regenerate-token',
    summary: 'Rotate the token; the old one works for TOKEN_GRACE_HOURS, or stops at once with revokeNow',
    request: { body: jsonBody(RotateTokenBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const { revokeNow } = c.req.valid('json')
    const db = database(c.env.DB)
    const clientId = c.req.param('clientId')
    const [client] = await db.select().from(clients).where(eq(clients.id, clientId)).limit(1)
    if (!client || client.status === 'deleted') throw new ApiError('NOT_FOUND', 'client not found')
    const now = clock.now()
    const previousExpiresAt = revokeNow ? now : now + settingsOf(c.env).tokenGraceHours * 3_600_000
    const { token, insert } = await newClientToken(db, clientId, now)
    // Expire first: the new token's row must not be caught by the update.
    await db.batch([
      expireTokens(db, clientId, previousExpiresAt),
      insert,
      auditEntry(
        c,
        db,
        {
          action: 'client.regenerate_token',
          clientId,
          targetType: 'client',
          targetId: clientId,
          after: { revokeNow },
        },
        now,
      ),
    ])
    // Within the grace period too: the objects learn the old tokens' expiry from D1.
    await forgetClientTokens(c.env, db, clientId, { endSockets: revokeNow })
    return c.json({
      success: true,
      client: { id: client.id, name: client.name, token, status: client.status },
      previous_token_expires_at: new Date(previousExpiresAt).toISOString(),
    })
  },
)
