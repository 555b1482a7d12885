/**
 * A command the agent refused because the instance it names is not tagged as its replica (a token
 * holder recorded someone else's instance) changed nothing in EC2: the control plane's records say
 * so. A refused promotion is undone (the workload on its old instance, the switch undone, no row or
 * ledger for the foreign instance), a refused replica termination leaves a failed record, not a live
 * one; neither is handed to another agent.
 */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { commands, instances, notifications, replicas, switches, usageSegments } from '../../../src/db/schema'
import { syncSegments } from '../../../src/flows/ledger/segments'
import { eventually } from '../../support/eventually'
import { agentOn, freshType, loadAgent, reportPrices } from '../engine/market'
import { ADMIN, call, db, runCommand, type TestAgent } from './helpers'

const ec2Id = () => `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
const base = (a: TestAgent) => `/api/agents/${a.agentId}`
const wait = <T>(what: string, read: () => Promise<T | undefined>) =>
  eventually(read, { what, timeoutMs: 5_000, intervalMs: 20 })

/** `instanceId` recorded as a ready replica of `a` (as POST .../replicas records any id). */
async function recordedReplica(a: TestAgent, type: string, instanceId: string) {
  const at = Date.now() - 60_000
  const [row] = await db()
    .insert(replicas)
    .values({
      id: `rep_${crypto.randomUUID().replaceAll('-', '')}`,
      clientId: a.client.id,
      agentId: a.agentId,
      replicaType: 'emergency',
      status: 'ready',
      poolId: `${type}.us-east-1b`,
      instanceType: type,
      region: 'us-east-1',
      az: 'us-east-1b',
      instanceId,
      parentInstanceId: a.instanceId,
      launchedAt: at,
      readyAt: at,
      createdAt: at,
      updatedAt: at,
    })
    .returning()
  return row!
}

const commandsOf = (agentId: string, type: string) =>
  db()
    .select()
    .from(commands)
    .where(and(eq(commands.agentId, agentId), eq(commands.commandType, type)))

const notified = (agentId: string, kind: string) =>
  wait(`a ${kind} notification`, async () => {
    const rows = await db()
      .select()
      .from(notifications)
      .where(and(eq(notifications.agentId, agentId), eq(notifications.kind, kind)))
    return rows.length > 0 ? rows : undefined
  })

describe('a promotion the agent refused as not its replica', () => {
  it('is undone: the workload on its old instance, the switch undone, the foreign instance neither a row nor in the ledger', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const proddb = ec2Id()
    const replica = await recordedReplica(a, type, proddb)
    const promoted = await call('POST', `${base(a)}/replicas/${replica.id}/promote`, {}, a.client.auth)
    expect(promoted.status).toBe(200)
    expect((await loadAgent(a.agentId)).instanceId).toBe(proddb)
    const refusal = `Refused: ${proddb} is not tagged as this agent's replica ${replica.id} (ManagedBy missing)`
    await runCommand(a, promoted.json.command_id, a.instanceId, false, refusal)

    const [sw] = await wait('the switch undone', async () => {
      const rows = await db().select().from(switches).where(eq(switches.agentId, a.agentId))
      return rows[0]?.undoneAt ? rows : undefined
    })
    expect(sw).toMatchObject({ newInstanceId: proddb, errorMessage: expect.stringContaining(refusal) })
    expect((await loadAgent(a.agentId)).instanceId).toBe(a.instanceId)
    const rows = await db().select().from(instances).where(eq(instances.agentId, a.agentId))
    expect(rows.map((i) => [i.instanceId, i.status])).toEqual([[a.instanceId, 'active']])
    const [rep] = await db().select().from(replicas).where(eq(replicas.id, replica.id))
    expect(rep).toMatchObject({ status: 'failed', errorMessage: expect.stringContaining(refusal) })
    const [note] = await notified(a.agentId, 'switch_failed')
    expect(note!.message).toContain('refused to promote')
    // Not handed to another agent: the one that refused runs the workload.
    expect(await commandsOf(a.agentId, 'promote_replica')).toHaveLength(1)

    // What the dashboard reads: no switch onto proddb counted, its savings effect not claimed.
    const history = await call('GET', `/api/client/${a.client.id}/switch-history`, undefined, ADMIN)
    expect(history.json).toMatchObject([
      { newInstanceId: proddb, undoneAt: expect.any(Number), savingsImpact: null },
    ])
    // The ledger: the old instance primary again, nothing open for proddb.
    await syncSegments(db(), await loadAgent(a.agentId), Date.now())
    const open = (await db().select().from(usageSegments).where(eq(usageSegments.agentId, a.agentId))).filter(
      (s) => s.endedAt === null,
    )
    expect(open.map((s) => [s.instanceId, s.role])).toEqual([[a.instanceId, 'primary']])
  })

  it("keeps the hand-over of a failure that is not a refusal: the promoted instance's agent is told, nothing undone", async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const replica = await recordedReplica(a, type, ec2Id())
    const promoted = await call('POST', `${base(a)}/replicas/${replica.id}/promote`, {}, a.client.auth)
    await runCommand(
      a,
      promoted.json.command_id,
      a.instanceId,
      false,
      'ReplicaNotRunning: it did not run in time here',
    )

    // The row order of an unordered select is the query plan's (an index on finished_at puts the open one first).
    const handed = await wait('the promotion handed over', async () => {
      const rows = await commandsOf(a.agentId, 'promote_replica')
      return rows.find((c) => c.id !== promoted.json.command_id)
    })
    expect(handed).toMatchObject({ instanceId: replica.instanceId })
    const [sw] = await db().select().from(switches).where(eq(switches.agentId, a.agentId))
    expect(sw).toMatchObject({ undoneAt: null, commandId: handed.id })
    const [rep] = await db().select().from(replicas).where(eq(replicas.id, replica.id))
    expect(rep).toMatchObject({ status: 'promoted' })
    expect((await loadAgent(a.agentId)).instanceId).toBe(replica.instanceId)
  })
})

describe('a replica termination the agent refused as not its replica', () => {
  it('leaves the replica failed with the refusal, not live nor billed, notified, not handed over', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const proddb = ec2Id()
    const replica = await recordedReplica(a, type, proddb)
    const ended = await call('DELETE', `${base(a)}/replicas/${replica.id}`, undefined, a.client.auth)
    expect(ended.json).toMatchObject({ status: 'terminating', command_id: expect.any(String) })
    const refusal = `Refused: ${proddb} is not tagged as this agent's replica ${replica.id} (ManagedBy missing)`
    await runCommand(a, ended.json.command_id, a.instanceId, false, refusal)

    const [note] = await notified(a.agentId, 'replica_failed')
    expect(note!.message).toContain(proddb)
    const [rep] = await db().select().from(replicas).where(eq(replicas.id, replica.id))
    expect(rep).toMatchObject({
      status: 'failed',
      errorMessage: expect.stringContaining("refused: not tagged as this agent's replica"),
    })
    expect(await commandsOf(a.agentId, 'terminate_replica')).toHaveLength(1)
    const listed = await call('GET', `${base(a)}/replicas`, undefined, a.client.auth)
    expect(JSON.stringify(listed.json)).not.toContain(replica.id)
    await syncSegments(db(), await loadAgent(a.agentId), Date.now())
    const open = (await db().select().from(usageSegments).where(eq(usageSegments.agentId, a.agentId))).filter(
      (s) => s.endedAt === null,
    )
    expect(open.map((s) => s.instanceId)).toEqual([a.instanceId])
  })
})

describe('recording an instance the control plane knows as something else as a replica', () => {
  const body = (instanceId: string, type: string) => ({
    instance_id: instanceId,
    replica_type: 'emergency',
    pool_id: `${type}.us-east-1b`,
    status: 'ready',
  })
  const replicasOf = (agentId: string) => db().select().from(replicas).where(eq(replicas.agentId, agentId))

  it("is refused (409), nothing written: the agent's own instance, another of its client's instances, another agent's replica", async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const other = await agentOn(type, 'spot', '5.0.0', a.client)
    await reportPrices(a, type, { a: 0.02, b: 0.015, c: 0.03 }, 'spot')
    const theirs = await recordedReplica(other, type, ec2Id())
    for (const instanceId of [a.instanceId, other.instanceId, theirs.instanceId!]) {
      const res = await call('POST', `${base(a)}/replicas`, body(instanceId, type), a.client.auth)
      expect(res.status, instanceId).toBe(409)
      expect(res.json).toMatchObject({ code: 'CONFLICT', error: expect.stringContaining(instanceId) })
    }
    expect(await replicasOf(a.agentId)).toEqual([])

    // An instance the client does not know is recorded as before; another tenant's too, and the answer
    // says nothing of it (it lives in another AWS account, where the agent's tag check refuses it).
    const fresh = await call('POST', `${base(a)}/replicas`, body(ec2Id(), type), a.client.auth)
    expect(fresh.status).toBe(201)
    const stranger = await agentOn(type, 'spot')
    const foreign = await call('POST', `${base(a)}/replicas`, body(stranger.instanceId, type), a.client.auth)
    expect(foreign.status).toBe(201)
  })
})
