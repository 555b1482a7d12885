import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { auditLog, notifications } from '../../../src/db/schema'
import { newId } from '../../../src/ids'
import { ADMIN, db, seedClient, seedUser, send } from './seed'

async function seedNotes(clientId: string, n: number) {
  const ids = Array.from({ length: n }, () => newId('ntf'))
  await db()
    .insert(notifications)
    .values(
      ids.map((id, k) => ({
        id,
        clientId,
        kind: 'agent_offline',
        message: `note ${k}`,
        severity: 'warning' as const,
        createdAt: Date.now() - k * 1000,
      })),
    )
  return ids
}

const auditOf = (action: string, clientId: string) =>
  db()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, action), eq(auditLog.clientId, clientId)))

describe('marking notifications read is audited', () => {
  it('records who marked one read with the read time before and after, once', async () => {
    const client = await seedClient()
    const viewer = await seedUser(client.id, 'viewer')
    const [note] = await seedNotes(client.id, 1)
    expect((await send('POST', `/api/notifications/${note}/mark-read`, viewer.headers)).status).toBe(200)
    const entries = await auditOf('notifications.mark_read', client.id)
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({
      actorType: 'viewer',
      actorId: viewer.userId,
      targetType: 'notification',
      targetId: note,
      before: { read_at: null },
    })
    expect((entries[0]!.after as { read_at: number }).read_at).toBeGreaterThan(0)
    // marking it again changes nothing and logs nothing
    expect((await send('POST', `/api/notifications/${note}/mark-read`, viewer.headers)).status).toBe(200)
    expect(await auditOf('notifications.mark_read', client.id)).toHaveLength(1)
  })

  it("records mark-all-read with the reader's unread count before and after", async () => {
    const client = await seedClient()
    const owner = await seedUser(client.id, 'owner')
    const [first] = await seedNotes(client.id, 3)
    await send('POST', `/api/notifications/${first}/mark-read`, owner.headers)
    const res = await send('POST', '/api/notifications/mark-all-read', owner.headers)
    expect(await res.json()).toEqual({ success: true, marked: 2 })
    const [entry, ...rest] = await auditOf('notifications.mark_all_read', client.id)
    expect(rest).toHaveLength(0)
    expect(entry).toMatchObject({
      actorType: 'owner',
      actorId: owner.userId,
      targetType: 'notifications',
      before: { unread: 2 },
      after: { unread: 0 },
    })
    const unread = await send('GET', '/api/notifications?unread=true', owner.headers)
    expect(await unread.json()).toEqual([])
    expect(await (await send('POST', '/api/notifications/mark-all-read', owner.headers)).json()).toEqual({
      success: true,
      marked: 0,
    })
    expect(await auditOf('notifications.mark_all_read', client.id)).toHaveLength(1)
  })

  it('audits the operator marking a client read, and writes nothing for a refused request', async () => {
    const client = await seedClient()
    const other = await seedClient()
    const stranger = await seedUser(other.id, 'owner')
    const [note] = await seedNotes(client.id, 2)
    expect((await send('POST', `/api/notifications/${note}/mark-read`, stranger.headers)).status).toBe(404)
    expect(await auditOf('notifications.mark_read', client.id)).toHaveLength(0)
    const res = await send('POST', `/api/notifications/mark-all-read?client_id=${client.id}`, ADMIN)
    expect(res.status).toBe(200)
    const [entry] = await auditOf('notifications.mark_all_read', client.id)
    expect(entry).toMatchObject({ actorType: 'operator', actorId: null, before: { unread: 2 } })
  })
})
