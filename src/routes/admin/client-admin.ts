/**
 * Admin client management besides create and rotate (those are in clients.ts): list with search,
 * one client, suspend, reactivate, delete with the typed name as confirmation.
 */
import { and, eq, isNull, or, gt } from 'drizzle-orm'
import { Hono, type Context } from 'hono'
import * as z from 'zod'
import { operatorAuth } from '../../auth/middleware'
import { database, type Database } from '../../db/client'
import { clients, clientTokens, type Client } from '../../db/schema'
import type { AppEnv } from '../../env'
import { ApiError } from '../../errors'
import { readJson, readQuery } from '../../validate'
import { auditEntry } from '../../db/audit'
import { ClientListQuery, clientRow, listClients } from '../../db/queries/clients'
import { clock } from '../../clock'
import { disableAgentsOfClient } from '../../flows/agents'
import { livenessFrom } from '../../db/queries/liveness'

export const DeleteClientBody = z.object({ confirm: z.string() })

export const clientAdmin = new Hono<AppEnv>()
clientAdmin.use(operatorAuth)

clientAdmin.get('/', async (c) => {
  const page = await listClients(
    database(c.env.DB),
    livenessFrom(c.env),
    readQuery(c, ClientListQuery),
    clock.now(),
  )
  c.header('X-Total-Count', String(page.total))
  return c.json(page.items)
})

clientAdmin.get('/:id', async (c) => {
  const row = await clientRow(database(c.env.DB), livenessFrom(c.env), c.req.param('id'), clock.now())
  if (!row) throw new ApiError('NOT_FOUND', 'client not found')
  return c.json(row)
})

clientAdmin.post('/:id/suspend', async (c) => setStatus(c, 'suspended'))
clientAdmin.post('/:id/activate', async (c) => setStatus(c, 'active'))

clientAdmin.delete('/:id', async (c) => {
  const db = database(c.env.DB)
  const client = await liveClient(db, c.req.param('id'))
  const { confirm } = await readJson(c, DeleteClientBody)
  if (confirm !== client.name) {
    throw new ApiError('VALIDATION', 'type the client name to confirm', {
      fields: [{ field: 'confirm', message: 'must equal the client name' }],
    })
  }
  const now = clock.now()
  await db.batch([
    db.update(clients).set({ status: 'deleted', updatedAt: now }).where(eq(clients.id, client.id)),
    // Its agents stop authenticating at once: every token of the client ends now.
    db
      .update(clientTokens)
      .set({ expiresAt: now })
      .where(
        and(
          eq(clientTokens.clientId, client.id),
          or(isNull(clientTokens.expiresAt), gt(clientTokens.expiresAt, now)),
        ),
      ),
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
  return c.json({ success: true, message: `client ${client.name} deleted` })
})

async function liveClient(db: Database, id: string): Promise<Client> {
  const [client] = await db.select().from(clients).where(eq(clients.id, id)).limit(1)
  if (!client || client.status === 'deleted') throw new ApiError('NOT_FOUND', 'client not found')
  return client
}

async function setStatus(c: Context<AppEnv>, status: 'active' | 'suspended') {
  const db = database(c.env.DB)
  const client = await liveClient(db, c.req.param('id') ?? '')
  const now = clock.now()
  await db.batch([
    db.update(clients).set({ status, updatedAt: now }).where(eq(clients.id, client.id)),
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
  return c.json({ success: true, status })
}
