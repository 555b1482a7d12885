/**
 * A client's people and webhook: invite users (owners and admins), disable them, set the webhook (its
 * URL rules: flows/webhooks/target.ts) and send it a test.
 */
import { and, eq } from 'drizzle-orm'
import { createRoute } from '@hono/zod-openapi'
import { answers, CLIENT_API, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { requirePerson, scopeClient, scopeClientWrite } from '../../auth/middleware'
import { database } from '../../db/client'
import { clients, users } from '../../db/schema'
import { settingsOf, type AppEnv } from '../../env'
import { ApiError, orThrow } from '../../errors'
import { newId, newToken } from '../../ids'
import { auditEntry } from '../../db/audit'
import { disableUser, inviteUser, NewUser, publicUser } from '../../auth/accounts'
import { deliverWebhook } from '../../flows/webhooks/deliver'
import { dropWebhookCursor, resetWebhookCursor } from '../../flows/webhooks/dispatch'
import { checkWebhookUrl } from '../../flows/webhooks/target'
import { takeSlot, WEBHOOK_TEST_MAX, WEBHOOK_TEST_WINDOW_MS, webhookTestLimit } from '../../auth/rate-limit'
import { clock } from '../../clock'
import { setClientWebhook } from '../../flows/clients'

export const WebhookBody = z.object({
  url: z
    .url({ protocol: /^https?$/ })
    .max(500)
    .nullable(),
})

export const clientSettings = routeGroup<AppEnv>(CLIENT_API)

clientSettings.openapi(
  createRoute({ method: 'get', path: '/{clientId}/users', summary: 'Team', responses: answers('OK') }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClient(c, clientId)
    const rows = await database(c.env.DB)
      .select()
      .from(users)
      .where(eq(users.clientId, clientId))
      .orderBy(users.email)
    return c.json(rows.map(publicUser))
  },
)

clientSettings.openapi(
  createRoute({
    method: 'post',
    path: '/{clientId}/users/invite',
    summary: 'Invite a user (owner or admin); answers a one-time link',
    request: { body: jsonBody(NewUser) },
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    const person = scopeClientWrite(c, clientId)
    const body = c.req.valid('json')
    const db = database(c.env.DB)
    const now = clock.now()
    const { user, inviteToken } = await inviteUser(db, clientId, body, person.userId, now)
    await auditEntry(
      c,
      db,
      { action: 'user.invite', clientId, targetType: 'user', targetId: user.id, after: publicUser(user) },
      now,
    )
    const url = `${new URL(c.req.url).origin}/invite/${inviteToken}`
    return c.json(
      {
        success: true,
        user: publicUser(user),
        inviteUrl: url,
        message: 'share this link once; it expires in 7 days',
      },
      201,
    )
  },
)

clientSettings.openapi(
  createRoute({
    method: 'delete',
    path: '/{clientId}/users/{userId}',
    summary: 'Disable a user (owner or admin)',
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    const person = scopeClientWrite(c, clientId)
    const db = database(c.env.DB)
    const [user] = await db
      .select()
      .from(users)
      .where(and(eq(users.id, c.req.param('userId')), eq(users.clientId, clientId)))
      .limit(1)
    if (!user) throw new ApiError('NOT_FOUND', 'user not found')
    if (person.userId === user.id) throw new ApiError('CONFLICT', 'you cannot disable yourself')
    await disableUser(c, db, user, clock.now())
    return c.json({ success: true })
  },
)

clientSettings.openapi(
  createRoute({
    method: 'put',
    path: '/{clientId}/webhook',
    summary: 'Set the webhook; the HMAC secret is in this answer only',
    request: { body: jsonBody(WebhookBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClientWrite(c, clientId)
    const body = c.req.valid('json')
    const target =
      body.url === null ? null : orThrow(checkWebhookUrl(body.url, settingsOf(c.env).webhookAllowHttp))
    const url = target ? target.url : null
    const db = database(c.env.DB)
    const [client] = await db.select().from(clients).where(eq(clients.id, clientId)).limit(1)
    if (!client || client.status === 'deleted') throw new ApiError('NOT_FOUND', 'client not found')
    // A new secret with every URL change, shown once.
    const secret = url ? newToken('whsec') : null
    const now = clock.now()
    await db.batch([
      setClientWebhook(db, clientId, { url, secret }, now),
      url ? resetWebhookCursor(db, clientId, now) : dropWebhookCursor(db, clientId),
      auditEntry(
        c,
        db,
        {
          action: 'client.webhook',
          clientId,
          targetType: 'client',
          targetId: clientId,
          before: { webhookUrl: client.webhookUrl },
          after: { webhookUrl: url },
        },
        now,
      ),
    ])
    return c.json({ success: true, webhookUrl: url, secret })
  },
)

clientSettings.openapi(
  createRoute({
    method: 'post',
    path: '/{clientId}/webhook/test',
    summary: 'Send a signed test event; answers only whether it was delivered',
    responses: answers('OK'),
  }),
  async (c) => {
    const clientId = c.req.param('clientId')
    scopeClientWrite(c, clientId)
    requirePerson(c)
    const db = database(c.env.DB)
    const now = clock.now()
    const [client] = await db
      .select({ url: clients.webhookUrl, secret: clients.webhookSecret })
      .from(clients)
      .where(eq(clients.id, clientId))
      .limit(1)
    if (!client?.url || !client.secret) throw new ApiError('CONFLICT', 'no webhook is set')
    if (!(await takeSlot(db, webhookTestLimit(clientId), now))) {
      throw new ApiError(
        'RATE_LIMITED',
        `at most ${WEBHOOK_TEST_MAX} test sends per ${WEBHOOK_TEST_WINDOW_MS / 60_000} minutes`,
      )
    }
    const sent = await deliverWebhook(
      { url: client.url, secret: client.secret },
      {
        id: newId('ntf'),
        kind: 'webhook_test',
        severity: 'info',
        message: 'SpotGuard webhook test',
        clientId,
        agentId: null,
        createdAt: new Date(now).toISOString(),
      },
      now,
      { allowHttp: settingsOf(c.env).webhookAllowHttp },
    )
    if (!sent.ok && sent.reason === 'refused') throw new ApiError('BAD_REQUEST', sent.detail)
    // Only delivered or failed: the target's status, body and errors stay unseen (no port scanner).
    return c.json({ success: true, result: sent.ok ? 'delivered' : 'failed' })
  },
)
