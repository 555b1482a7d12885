/**
 * Admin client management besides create and rotate (those are in clients.ts): list with search,
 * one client, suspend, reactivate, delete with the typed name as confirmation.
 */
import { eq } from 'drizzle-orm'
import { createRoute } from '@hono/zod-openapi'
import { ADMIN_API, answers, jsonBody, routeGroup } from '../group'
import type { Context } from 'hono'
import * as z from 'zod'
import { database, type Database } from '../../db/client'
import { expireTokens } from '../../auth/client-tokens'
import { clients, type Client } from '../../db/schema'
import { setClientStatus } from '../../flows/clients'
import type { AppEnv } from '../../env'
import { ApiError } from '../../errors'
import { auditEntry } from '../../db/audit'
import { ClientListQuery, clientRow, listClients } from '../../db/queries/clients'
import { clock } from '../../clock'
import { disableAgentsOfClient } from '../../flows/agents'
import { forgetClientTokens } from '../../flows/credentials'
import { livenessFrom } from '../../db/queries/liveness'

export const DeleteClientBody = z.object({ confirm: z.string() })

export const clientAdmin = routeGroup<AppEnv>(ADMIN_API)

clientAdmin.openapi(
  createRoute({
    method: 'get',
    path: '/clients',
    summary: 'Clients with counts and savings (X-Total-Count)',
    request: { query: ClientListQuery },
    responses: answers('OK'),
  }),
  async (c) => {
    const page = await listClients(database(c.env.DB), livenessFrom(c.env), c.req.valid('query'), clock.now())
    c.header('X-Total-Count', String(page.total))
    return c.json(page.items)
  },
)

clientAdmin.openapi(
  createRoute({
    method: 'get',
    path: '/clients/{clientId}',
    summary: 'One client row',
    responses: answers('OK'),
  }),
  async (c) => {
    const row = await clientRow(database(c.env.DB), livenessFrom(c.env), c.req.param('clientId'), clock.now())
    if (!row) throw new ApiError('NOT_FOUND', 'client not found')
    return c.json(row)
  },
)

clientAdmin.openapi(
  createRoute({
    method: 'post',
    path: '/clients/{clientId}/suspend',
    summary: 'Suspend (agents get 403)',
    responses: answers('OK'),
  }),
  async (c) => setStatus(c, 'suspended'),
)
clientAdmin.openapi(
  createRoute({
    method: 'post',
    path: '/clients/{clientId}/activate',
    summary: 'Reactivate',
    responses: answers('OK'),
  }),
  async (c) => setStatus(c, 'active'),
)

clientAdmin.openapi(
  createRoute({
    method: 'delete',
    path: '/clients/{clientId}',
    summary: 'Delete; `confirm` must equal the client name',
    request: { body: jsonBody(DeleteClientBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const db = database(c.env.DB)
    const client = await liveClient(db, c.req.param('clientId'))
    const { confirm } = c.req.valid('json')
    if (confirm !== client.name) {
      throw new ApiError('VALIDATION', 'type the client name to confirm', {
        fields: [{ field: 'confirm', message: 'must equal the client name' }],
      })
    }
    const now = clock.now()
    await db.batch([
      setClientStatus(db, client.id, 'deleted', now),
      // Its agents stop authenticating at once: every token of the client ends now.
      expireTokens(db, client.id, now),
      disableAgentsOfClient(db, client.id, now),
      auditEntry(
        c,
        db,
        {
          action: 'client.delete',
          clientId: client.id,
          targetType: 'client',
          targetId: client.id,
          before: { name: client.name, status: client.status },
          after: { status: 'deleted' },
        },
        now,
      ),
    ])
    await forgetClientTokens(c.env, db, client.id, { endSockets: true })
    return c.json({ success: true, message: `client ${client.name} deleted` })
  },
)

async function liveClient(db: Database, id: string): Promise<Client> {
  const [client] = await db.select().from(clients).where(eq(clients.id, id)).limit(1)
  if (!client || client.status === 'deleted') throw new ApiError('NOT_FOUND', 'client not found')
  return client
}

async function setStatus(c: Context<AppEnv>, status: 'active' | 'suspended') {
  const db = database(c.env.DB)
  const client = await liveClient(db, c.req.param('clientId') ?? '')
  const now = clock.now()
  await db.batch([
    setClientStatus(db, client.id, status, now),
    auditEntry(
      c,
      db,
      {
        action: status === 'suspended' ? 'client.suspend' : 'client.activate',
        clientId: client.id,
        targetType: 'client',
        targetId: client.id,
        before: { status: client.status },
        after: { status },
      },
      now,
    ),
  ])
  if (status === 'suspended') await forgetClientTokens(c.env, db, client.id, { endSockets: true })
  return c.json({ success: true, status })
}
