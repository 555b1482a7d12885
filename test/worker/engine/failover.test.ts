import { env } from 'cloudflare:test'
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { commands, events, instances, replicas, switches } from '../../../src/db/schema'
import { maintainStandby } from '../../../src/flows/failover/standby'
import { eventually } from '../../support/eventually'
import { call, db, type TestAgent } from '../agent-api/helpers'
import { agentOn, freshType, loadAgent, reportPrices, setAgent } from './market'

const ec2Id = () => `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
const notice = (a: TestAgent) => ({
  instance_id: a.instanceId,
  termination_time: new Date(Date.now() + 120_000).toISOString(),
  detected_at: new Date().toISOString(),
})
const commandsOf = (agentId: string, type: string) =>
  db()
    .select()
    .from(commands)
    .where(and(eq(commands.agentId, agentId), eq(commands.commandType, type)))

/** A spot agent in pool a with a priced market, and a replica of it made ready on a real instance. */
async function agentWithReadyReplica() {
  const type = freshType()
  const a = await agentOn(type, 'spot')
  await reportPrices(a, type, { a: 0.0125, b: 0.013, c: 0.03 }, 'spot')
  const created = await call(
    'POST',
    `/api/agents/${a.agentId}/create-emergency-replica`,
    { signal_type: 'rebalance-recommendation', instance_id: a.instanceId },
    a.client.auth,
  )
  expect(created.status).toBe(201)
  expect(created.json.pool.id).toBe(`${type}.us-east-1b`) // the safest cheap pool, not the current one
  const replicaInstance = ec2Id()
  await call(
    'PUT',
    `/api/agents/${a.agentId}/replicas/${created.json.replica_id}`,
    { instance_id: replicaInstance },
    a.client.auth,
  )
  await call(
    'POST',
    `/api/agents/${a.agentId}/replicas/${created.json.replica_id}/status`,
    { status: 'ready' },
    a.client.auth,
  )
  return { a, type, replicaId: created.json.replica_id as string, replicaInstance }
}

describe('failover on a termination notice', () => {
  it('promotes the ready replica within the request, records the switch with its real id and queues the follow-up', async () => {
    const { a, type, replicaId, replicaInstance } = await agentWithReadyReplica()
    const res = await call('POST', `/api/agents/${a.agentId}/termination-imminent`, notice(a), a.client.auth)
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({
      success: true,
      action: 'replica_promoted',
      replica_id: replicaId,
      new_instance_id: replicaInstance,
    })
    expect(res.json.failover_time_ms).toBeGreaterThanOrEqual(0)

    expect((await loadAgent(a.agentId)).instanceId).toBe(replicaInstance)
    const [sw, ...moreSwitches] = await db().select().from(switches).where(eq(switches.agentId, a.agentId))
    expect(moreSwitches).toEqual([])
    expect(sw).toMatchObject({
      trigger: 'interruption',
      oldInstanceId: a.instanceId,
      newInstanceId: replicaInstance,
      newPoolId: `${type}.us-east-1b`,
    })
    const [promote] = await commandsOf(a.agentId, 'promote_replica')
    expect(promote).toMatchObject({ priority: 100, status: expect.stringMatching(/queued|delivered/) })
    const [old] = await db().select().from(instances).where(eq(instances.instanceId, a.instanceId))
    // EC2 ends it at the notice's time, not before.
    expect(old).toMatchObject({ status: 'terminating' })
    const [event] = await db()
      .select()
      .from(events)
      .where(and(eq(events.agentId, a.agentId), eq(events.kind, 'termination_notice')))
    expect(event).toMatchObject({
      action: 'replica_promoted',
      newInstanceId: replicaInstance,
      poolId: `${type}.us-east-1a`,
    })
    // The failover ends when the promotion's command completes (EC2 followed), not in the request.
    expect(event!.failoverMs).toBeNull()
    await call(
      'POST',
      `/api/agents/${a.agentId}/commands/${promote!.id}/ack`,
      { instance_id: a.instanceId },
      a.client.auth,
    )
    await call(
      'POST',
      `/api/agents/${a.agentId}/commands/${promote!.id}/executed`,
      { success: true, message: 'moved' },
      a.client.auth,
    )
    const failoverMs = await eventually(
      async () => (await db().select().from(events).where(eq(events.id, event!.id)))[0]?.failoverMs,
      { what: 'the failover time', timeoutMs: 5_000, intervalMs: 20 },
    )
    expect(failoverMs).toBeGreaterThanOrEqual(0)
  })

  it('answers a repeated notice with the first answer and changes nothing', async () => {
    const { a, replicaInstance } = await agentWithReadyReplica()
    const body = notice(a)
    const first = await call('POST', `/api/agents/${a.agentId}/termination-imminent`, body, a.client.auth)
    const second = await call('POST', `/api/agents/${a.agentId}/termination-imminent`, body, a.client.auth)
    expect(second.status).toBe(200)
    expect(second.json).toMatchObject({ new_instance_id: replicaInstance, replica_id: first.json.replica_id })
    expect(await db().select().from(switches).where(eq(switches.agentId, a.agentId))).toHaveLength(1)
    expect(await commandsOf(a.agentId, 'promote_replica')).toHaveLength(1)
  })

  it('without a replica: 409 with the emergency action, and the notice kept as risk data of the pool', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const res = await call('POST', `/api/agents/${a.agentId}/termination-imminent`, notice(a), a.client.auth)
    expect(res.status).toBe(409)
    expect(res.json).toMatchObject({ success: false, action: 'emergency_snapshot_required' })
    const rows = await db().select().from(events).where(eq(events.agentId, a.agentId))
    expect(rows.map((e) => [e.kind, e.poolId])).toEqual([['termination_notice', `${type}.us-east-1a`]])
    expect(await db().select().from(switches).where(eq(switches.agentId, a.agentId))).toHaveLength(0)
  })
})

describe('rebalance recommendation', () => {
  it("answers with the engine's risk: switch to a safer pool when the pool is too risky, else monitor", async () => {
    const type = freshType()
    const risky = await agentOn(type, 'spot')
    // The agent's own cap (the default's 0.5 leaves a pool near on-demand price alone on price evidence).
    await setAgent(risky.agentId, { riskThreshold: 0.3 })
    await reportPrices(risky, type, { a: 0.04, b: 0.013, c: 0.03 }, 'spot')
    const res = await call(
      'POST',
      `/api/agents/${risky.agentId}/rebalance-recommendation`,
      { instance_id: risky.instanceId, detected_at: new Date().toISOString() },
      risky.client.auth,
    )
    expect(res.json).toMatchObject({
      success: true,
      action: 'switch',
      target_mode: 'spot',
      target_pool_id: `${type}.us-east-1b`,
    })
    expect(res.json.risk_score).toBeGreaterThan(0.3)

    const calmType = freshType()
    const calm = await agentOn(calmType, 'spot')
    await reportPrices(calm, calmType, { a: 0.012, b: 0.013, c: 0.03 }, 'spot')
    const quiet = await call(
      'POST',
      `/api/agents/${calm.agentId}/rebalance-recommendation`,
      { instance_id: calm.instanceId, detected_at: new Date().toISOString() },
      calm.client.auth,
    )
    expect(quiet.json).toMatchObject({ success: true, action: 'monitor' })
    expect(quiet.json).not.toHaveProperty('target_pool_id')
  })
})

describe('manual replica mode', () => {
  it('waits, without an error, while no other pool has a fresh price', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    await setAgent(a.agentId, { manualReplicaEnabled: true, autoSwitchEnabled: false })
    expect(await maintainStandby(env, db(), await loadAgent(a.agentId), Date.now())).toBe('waiting')
    const rows = await db().select().from(replicas).where(eq(replicas.agentId, a.agentId))
    expect(rows).toEqual([])
  })

  it('keeps exactly one standby in another pool, without bursts, and ends it through a command when turned off (terminating until then)', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    await reportPrices(a, type, { a: 0.0125, b: 0.013, c: 0.03 }, 'spot')
    await setAgent(a.agentId, { manualReplicaEnabled: true, autoSwitchEnabled: false })
    const standbys = () =>
      db()
        .select()
        .from(replicas)
        .where(and(eq(replicas.agentId, a.agentId), eq(replicas.replicaType, 'manual')))

    expect(await maintainStandby(env, db(), await loadAgent(a.agentId), Date.now())).toBe('created')
    expect(await maintainStandby(env, db(), await loadAgent(a.agentId), Date.now())).toBe('kept')
    const [standby, ...more] = await standbys()
    expect(more).toEqual([])
    expect(standby).toMatchObject({ status: 'launching', poolId: `${type}.us-east-1b` })
    expect(await commandsOf(a.agentId, 'create_replica')).toHaveLength(1)

    await call(
      'POST',
      `/api/agents/${a.agentId}/replicas/${standby!.id}/status`,
      { status: 'failed', error_message: 'InsufficientInstanceCapacity' },
      a.client.auth,
    )
    expect(await maintainStandby(env, db(), await loadAgent(a.agentId), Date.now())).toBe('waiting')
    expect(await standbys()).toHaveLength(1)

    const later = Date.now() + 11 * 60_000
    expect(await maintainStandby(env, db(), await loadAgent(a.agentId), later)).toBe('created')
    const replacement = (await standbys()).find((r) => r.status === 'launching')!
    expect(replacement.poolId).not.toBe(`${type}.us-east-1a`)

    const launched = ec2Id()
    await call(
      'PUT',
      `/api/agents/${a.agentId}/replicas/${replacement.id}`,
      { instance_id: launched },
      a.client.auth,
    )
    await setAgent(a.agentId, { manualReplicaEnabled: false })
    expect(await maintainStandby(env, db(), await loadAgent(a.agentId), later)).toBe('ended')
    // EC2 runs it until the agent terminates it: terminating until then, and ended only once.
    expect((await standbys()).find((r) => r.id === replacement.id)).toMatchObject({
      status: 'terminating',
      terminatedAt: null,
    })
    expect(await maintainStandby(env, db(), await loadAgent(a.agentId), later)).toBe('none')
    expect(await commandsOf(a.agentId, 'terminate_replica')).toMatchObject([
      { instanceId: a.instanceId, payload: { replica_id: replacement.id, replica_instance_id: launched } },
    ])
  })

  it('ends a standby nobody launched yet at once: there is no instance to wait for', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    await reportPrices(a, type, { a: 0.0125, b: 0.013, c: 0.03 }, 'spot')
    await setAgent(a.agentId, { manualReplicaEnabled: true, autoSwitchEnabled: false })
    expect(await maintainStandby(env, db(), await loadAgent(a.agentId), Date.now())).toBe('created')
    await setAgent(a.agentId, { manualReplicaEnabled: false })
    expect(await maintainStandby(env, db(), await loadAgent(a.agentId), Date.now())).toBe('ended')
    const [standby] = await db().select().from(replicas).where(eq(replicas.agentId, a.agentId))
    expect(standby).toMatchObject({ status: 'terminated', terminatedAt: expect.any(Number) })
    expect(await commandsOf(a.agentId, 'terminate_replica')).toEqual([])
  })
})
