import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, auditLog, replicas } from '../../../src/db/schema'
import { ADMIN, db, get, seedClient, seedFleet, seedUser, send } from './seed'

describe('replica actions of the dashboard', () => {
  it('create a standby only with manual replica mode, for owners, in the chosen pool', async () => {
    const client = await seedClient()
    const fleet = await seedFleet(client.id)
    const owner = await seedUser(client.id, 'owner')
    const viewer = await seedUser(client.id, 'viewer')
    const path = `/api/client/agents/${fleet.agentId}/replicas`
    expect((await send('POST', path, owner.headers, { poolId: fleet.poolB })).status).toBe(403)
    await db()
      .update(agents)
      .set({ manualReplicaEnabled: true, autoSwitchEnabled: false })
      .where(eq(agents.id, fleet.agentId))
    expect((await send('POST', path, viewer.headers, { poolId: fleet.poolB })).status).toBe(403)
    const res = await send('POST', path, owner.headers, { poolId: fleet.poolB })
    expect(res.status).toBe(201)
    const body = (await res.json()) as { replicaId: string; poolId: string; status: string }
    expect(body).toMatchObject({ poolId: fleet.poolB, status: 'launching' })
    const listed = (await (await get(`/api/client/${client.id}/replicas`, viewer.headers)).json()) as {
      replica: { id: string }
    }[]
    expect(listed.map((r) => r.replica.id)).toEqual([body.replicaId])
    const other = await seedUser((await seedClient()).id, 'owner')
    expect((await send('DELETE', `${path}/${body.replicaId}`, other.headers)).status).toBe(404)
    expect((await send('DELETE', `${path}/${body.replicaId}`, owner.headers)).status).toBe(200)
    const [row] = await db().select().from(replicas).where(eq(replicas.id, body.replicaId))
    expect(row?.status).toBe('terminated')
    const audit = await db().select().from(auditLog).where(eq(auditLog.targetId, body.replicaId))
    expect(audit.map((a) => a.action).sort()).toEqual(['replica.create', 'replica.terminate'])
  })

  it('promote a ready replica with a real instance', async () => {
    const client = await seedClient()
    const fleet = await seedFleet(client.id)
    await db()
      .update(agents)
      .set({ manualReplicaEnabled: true, autoSwitchEnabled: false })
      .where(eq(agents.id, fleet.agentId))
    const created = (await (
      await send('POST', `/api/client/agents/${fleet.agentId}/replicas`, ADMIN, { poolId: fleet.poolB })
    ).json()) as { replicaId: string }
    const promoteEarly = await send(
      'POST',
      `/api/client/agents/${fleet.agentId}/replicas/${created.replicaId}/promote`,
      ADMIN,
    )
    expect(promoteEarly.status).toBe(409)
    await db()
      .update(replicas)
      .set({ instanceId: 'i-0replica000000001', status: 'ready' })
      .where(eq(replicas.id, created.replicaId))
    const res = await send(
      'POST',
      `/api/client/agents/${fleet.agentId}/replicas/${created.replicaId}/promote`,
      ADMIN,
    )
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ success: true, newInstanceId: 'i-0replica000000001' })
  })
})
