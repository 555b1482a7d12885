/** A double promotion (two concurrent requests, then a replay) must record one switch, not two. */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, instances, replicas, switches } from '../../../src/db/schema'
import { promoteReplica } from '../../../src/flows/replicas/promote'
import { ADMIN, db, seedClient, seedFleet, send } from '../web/seed'

/** A fleet whose agent has a ready replica with a real instance in pool B. */
async function readyReplica() {
  const client = await seedClient()
  const fleet = await seedFleet(client.id)
  await db()
    .update(agents)
    .set({ manualReplicaEnabled: true, autoSwitchEnabled: false })
    .where(eq(agents.id, fleet.agentId))
  const created = (await (
    await send('POST', `/api/client/agents/${fleet.agentId}/replicas`, ADMIN, { poolId: fleet.poolB })
  ).json()) as { replicaId: string }
  const replicaInstance = `i-0${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
  await db()
    .update(replicas)
    .set({ instanceId: replicaInstance, status: 'ready' })
    .where(eq(replicas.id, created.replicaId))
  return { fleet, replicaId: created.replicaId, replicaInstance }
}

/** The end state of one promotion: one switch onto the replica, the agent on it, one instance row. */
async function expectOnePromotion(
  fleet: { agentId: string; instanceId: string },
  replicaId: string,
  replicaInstance: string,
) {
  const history = await db().select().from(switches).where(eq(switches.agentId, fleet.agentId))
  expect(history).toHaveLength(1)
  expect(history[0]).toMatchObject({ oldInstanceId: fleet.instanceId, newInstanceId: replicaInstance })
  const [replica] = await db().select().from(replicas).where(eq(replicas.id, replicaId))
  expect(replica?.status).toBe('promoted')
  const [agent] = await db().select().from(agents).where(eq(agents.id, fleet.agentId))
  expect(agent?.instanceId).toBe(replicaInstance)
  const rows = await db().select().from(instances).where(eq(instances.agentId, fleet.agentId))
  expect(rows.filter((r) => r.instanceId === replicaInstance)).toHaveLength(1)
}

describe('replica promotion as compare-and-set', () => {
  it('records one switch when two promotions read the replica as ready before either wrote', async () => {
    const { fleet, replicaId, replicaInstance } = await readyReplica()
    const [agent] = await db().select().from(agents).where(eq(agents.id, fleet.agentId))
    const [replica] = await db().select().from(replicas).where(eq(replicas.id, replicaId))
    const facts = { trigger: 'replica_promotion' as const, initiatedAt: Date.now(), oldEndedAt: null }
    const first = await promoteReplica(db(), agent!, replica!, facts, Date.now())
    const second = await promoteReplica(db(), agent!, replica!, facts, Date.now())
    expect(first).toMatchObject({ ok: true, changed: true })
    expect(second).toMatchObject({ ok: true, changed: false, switchId: null })
    await expectOnePromotion(fleet, replicaId, replicaInstance)
  })

  it('records one switch for two concurrent promote requests and a replayed one', async () => {
    const { fleet, replicaId, replicaInstance } = await readyReplica()
    const promote = () =>
      send('POST', `/api/client/agents/${fleet.agentId}/replicas/${replicaId}/promote`, ADMIN)
    const answers = await Promise.all([promote(), promote()])
    expect(answers.map((r) => r.status)).toEqual([200, 200])
    expect((await promote()).status).toBe(200)
    await expectOnePromotion(fleet, replicaId, replicaInstance)
  })
})
