/** Replica decisions reach the agent as commands (new agents), and legacy agents get only what they know. */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, commands, notifications, replicas, switches } from '../../../src/db/schema'
import { ADMIN, call, db, newAgent, seedFreshPools, type TestAgent } from './helpers'
import { vector } from './vectors'

const commandsOf = (agentId: string, type: string) =>
  db()
    .select()
    .from(commands)
    .where(and(eq(commands.agentId, agentId), eq(commands.commandType, type)))

/** An agent with an emergency replica launched and ready on `i-0aaaabbbbccccdddd`. */
async function withReadyReplica(version: string): Promise<TestAgent & { replicaId: string }> {
  const agent = await newAgent(undefined, { agent_version: version })
  await seedFreshPools(agent.client.id)
  const base = `/api/agents/${agent.agentId}`
  const auth = agent.client.auth
  const created = await call(
    'POST',
    `${base}/create-emergency-replica`,
    { ...vector('emergencyRebalanceV4'), instance_id: agent.instanceId },
    auth,
  )
  expect(created.status).toBe(201)
  const replicaId = created.json.replica_id
  await call('PUT', `${base}/replicas/${replicaId}`, vector('replicaPutInstanceV4'), auth)
  await call('POST', `${base}/replicas/${replicaId}/status`, vector('replicaStatusReadyV4'), auth)
  return { ...agent, replicaId }
}

describe('replica commands', () => {
  it('an emergency replica of a 5.x agent is also pushed as create_replica; a 4.x agent only polls', async () => {
    const fresh = await withReadyReplica('5.0.0')
    expect(await commandsOf(fresh.agentId, 'create_replica')).toMatchObject([
      { priority: 100, targetMode: 'spot', payload: { replica_id: fresh.replicaId } },
    ])
    const legacy = await withReadyReplica('4.0.0')
    expect(await commandsOf(legacy.agentId, 'create_replica')).toHaveLength(0)
  })

  it('promote: the replica becomes the primary, a switch is recorded, promote_replica is queued once', async () => {
    const agent = await withReadyReplica('5.0.0')
    const path = `/api/agents/${agent.agentId}/replicas/${agent.replicaId}/promote`
    const res = await call('POST', path, {}, agent.client.auth)
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({
      success: true,
      new_instance_id: 'i-0aaaabbbbccccdddd',
      command_id: expect.any(String),
    })
    const [row] = await db().select().from(agents).where(eq(agents.id, agent.agentId))
    expect(row?.instanceId).toBe('i-0aaaabbbbccccdddd')
    expect(await db().select().from(switches).where(eq(switches.agentId, agent.agentId))).toMatchObject([
      { trigger: 'replica_promotion', oldInstanceId: agent.instanceId, newInstanceId: 'i-0aaaabbbbccccdddd' },
    ])
    expect(await commandsOf(agent.agentId, 'promote_replica')).toMatchObject([
      {
        id: res.json.command_id,
        priority: 75,
        payload: { replica_id: agent.replicaId, replica_instance_id: 'i-0aaaabbbbccccdddd' },
      },
    ])
    // Asked again while its command is open: the same command, not a second one.
    const again = await call('POST', path, {}, agent.client.auth)
    expect(again.json).toMatchObject({ success: true, command_id: res.json.command_id })
    expect(await commandsOf(agent.agentId, 'promote_replica')).toHaveLength(1)
    expect(await db().select().from(switches).where(eq(switches.agentId, agent.agentId))).toHaveLength(1)
  })

  it('promote is refused (409) for a 4.x agent, which has no promote command; nothing changes', async () => {
    const agent = await withReadyReplica('4.0.0')
    const res = await call(
      'POST',
      `/api/agents/${agent.agentId}/replicas/${agent.replicaId}/promote`,
      {},
      agent.client.auth,
    )
    expect(res.status).toBe(409)
    const [replica] = await db().select().from(replicas).where(eq(replicas.id, agent.replicaId))
    expect(replica?.status).toBe('ready')
  })

  it('DELETE marks the replica terminating while EC2 runs it, queues terminate_replica once, and its report ends it', async () => {
    const agent = await withReadyReplica('5.0.0')
    const path = `/api/agents/${agent.agentId}/replicas/${agent.replicaId}`
    const res = await call('DELETE', path, undefined, agent.client.auth)
    expect(res.json).toMatchObject({ success: true, status: 'terminating', command_id: expect.any(String) })
    const [replica] = await db().select().from(replicas).where(eq(replicas.id, agent.replicaId))
    expect(replica).toMatchObject({ status: 'terminating', terminatedAt: null })
    expect(await commandsOf(agent.agentId, 'terminate_replica')).toMatchObject([
      { payload: { replica_id: agent.replicaId, replica_instance_id: 'i-0aaaabbbbccccdddd' } },
    ])
    const again = await call('DELETE', path, undefined, agent.client.auth)
    expect(again.json).toMatchObject({ success: true, status: 'terminating', command_id: null })
    expect(await commandsOf(agent.agentId, 'terminate_replica')).toHaveLength(1)
    const listed = await call(
      'GET',
      `/api/agents/${agent.agentId}/replicas?include_terminated=true`,
      undefined,
      agent.client.auth,
    )
    expect(listed.json.replicas).toMatchObject([
      { id: agent.replicaId, status: 'terminating', is_active: false },
    ])

    // The agent terminated the instance and says so (what runTerminateReplica reports).
    const reported = await call('POST', `${path}/status`, { status: 'terminated' }, agent.client.auth)
    expect(reported.status).toBe(200)
    const [ended] = await db().select().from(replicas).where(eq(replicas.id, agent.replicaId))
    expect(ended).toMatchObject({ status: 'terminated', terminatedAt: expect.any(Number) })
    // `terminating` is the control plane's word, never an agent's report.
    const refused = await call('POST', `${path}/status`, { status: 'terminating' }, agent.client.auth)
    expect(refused.status).toBe(400)
  })

  it('a launch that reports its instance after the replica ended records it terminating and has it terminated', async () => {
    const agent = await newAgent(undefined, { agent_version: '5.0.0' })
    await seedFreshPools(agent.client.id)
    const base = `/api/agents/${agent.agentId}`
    const auth = agent.client.auth
    const created = await call(
      'POST',
      `${base}/create-emergency-replica`,
      { ...vector('emergencyRebalanceV4'), instance_id: agent.instanceId },
      auth,
    )
    const replicaId = created.json.replica_id as string
    // Ended while its create_replica runs: no instance yet, so nothing to wait for then.
    const ended = await call('DELETE', `${base}/replicas/${replicaId}`, undefined, auth)
    expect(ended.json).toMatchObject({ status: 'terminated', command_id: null })

    // EC2 answered the launch after all: the instance runs and is billed.
    const late = await call(
      'PUT',
      `${base}/replicas/${replicaId}`,
      { instance_id: 'i-0aaaabbbbcccc1234' },
      auth,
    )
    expect(late.status).toBe(200)
    expect(late.json).toMatchObject({ success: true, status: 'terminating' })
    const [replica] = await db().select().from(replicas).where(eq(replicas.id, replicaId))
    expect(replica).toMatchObject({
      status: 'terminating',
      instanceId: 'i-0aaaabbbbcccc1234',
      terminatedAt: null,
    })
    expect(await commandsOf(agent.agentId, 'terminate_replica')).toMatchObject([
      {
        instanceId: agent.instanceId,
        payload: { replica_id: replicaId, replica_instance_id: 'i-0aaaabbbbcccc1234' },
      },
    ])
    // A repeat of the report changes nothing; the launch's progress is refused as before.
    const again = await call(
      'PUT',
      `${base}/replicas/${replicaId}`,
      { instance_id: 'i-0aaaabbbbcccc1234' },
      auth,
    )
    expect(again.status).toBe(409)
    expect(await commandsOf(agent.agentId, 'terminate_replica')).toHaveLength(1)

    // The workload's instance ended it.
    await call('POST', `${base}/replicas/${replicaId}/status`, { status: 'terminated' }, auth)
    const [gone] = await db().select().from(replicas).where(eq(replicas.id, replicaId))
    expect(gone).toMatchObject({ status: 'terminated', terminatedAt: expect.any(Number) })
  })

  it("DELETE of a 4.0.0 agent's replica keeps it terminating (EC2 runs it), tells the client, and shows that agent only 'terminated'", async () => {
    const agent = await withReadyReplica('4.0.0')
    const path = `/api/agents/${agent.agentId}/replicas/${agent.replicaId}`
    const res = await call('DELETE', path, undefined, agent.client.auth)
    expect(res.json).toMatchObject({ success: true, status: 'terminated', command_id: null })
    const [replica] = await db().select().from(replicas).where(eq(replicas.id, agent.replicaId))
    expect(replica).toMatchObject({ status: 'terminating', terminatedAt: null })
    const listed = await call(
      'GET',
      `/api/agents/${agent.agentId}/replicas?include_terminated=true`,
      undefined,
      agent.client.auth,
    )
    expect(listed.json.replicas).toMatchObject([{ id: agent.replicaId, status: 'terminated' }])
    const launching = await call(
      'GET',
      `/api/agents/${agent.agentId}/replicas?status=launching`,
      undefined,
      agent.client.auth,
    )
    expect(launching.json.replicas).toEqual([])
    const told = await db()
      .select()
      .from(notifications)
      .where(and(eq(notifications.agentId, agent.agentId), eq(notifications.kind, 'replica')))
    expect(told).toEqual([
      expect.objectContaining({ message: expect.stringContaining('terminate it in EC2') }),
    ])

    // People see it terminating, and only their word ends it.
    const page = await call('GET', `/c/${agent.client.id}/replicas`, undefined, ADMIN)
    expect(page.text).toContain('terminating')
    expect(page.text).toContain('Terminated in EC2')
    const api = await call('GET', `/api/client/${agent.client.id}/replicas`, undefined, ADMIN)
    expect(api.json).toMatchObject([{ replica: { id: agent.replicaId, status: 'terminating' } }])
    const dashboard = `/api/client/agents/${agent.agentId}/replicas/${agent.replicaId}`
    expect((await call('DELETE', dashboard, undefined, ADMIN)).status).toBe(409)
    const confirmed = await call('DELETE', `${dashboard}?terminated_in_ec2=1`, undefined, ADMIN)
    expect(confirmed.json).toMatchObject({ status: 'terminated' })
    const [ended] = await db().select().from(replicas).where(eq(replicas.id, agent.replicaId))
    expect(ended).toMatchObject({ status: 'terminated', terminatedAt: expect.any(Number) })
  })

  it('termination-imminent on a 5.x agent queues promote_replica at emergency priority', async () => {
    const agent = await withReadyReplica('5.0.0')
    const res = await call(
      'POST',
      `/api/agents/${agent.agentId}/termination-imminent`,
      { ...vector('terminationImminentV4'), instance_id: agent.instanceId },
      agent.client.auth,
    )
    expect(res.json).toMatchObject({ success: true, new_instance_id: 'i-0aaaabbbbccccdddd' })
    expect(await commandsOf(agent.agentId, 'promote_replica')).toMatchObject([
      { priority: 100, source: 'emergency' },
    ])
  })

  it('at most 2 active replicas per agent', async () => {
    const agent = await newAgent()
    await seedFreshPools(agent.client.id)
    await db().update(agents).set({ manualReplicaEnabled: true }).where(eq(agents.id, agent.agentId))
    const create = (instanceId: string) =>
      call(
        'POST',
        `/api/agents/${agent.agentId}/replicas`,
        { instance_id: instanceId, pool_id: 't3.medium.us-east-1c' },
        agent.client.auth,
      )
    expect((await create('i-00000000000000001')).status).toBe(201)
    expect((await create('i-00000000000000002')).status).toBe(201)
    const third = await create('i-00000000000000003')
    expect(third.status).toBe(409)
    const emergency = await call(
      'POST',
      `/api/agents/${agent.agentId}/create-emergency-replica`,
      { ...vector('emergencyTerminationV4'), instance_id: agent.instanceId },
      agent.client.auth,
    )
    expect(emergency.status).toBe(409)
  })

  it('a disabled agent gets no emergency replica', async () => {
    const agent = await newAgent()
    await seedFreshPools(agent.client.id)
    await db().update(agents).set({ enabled: false }).where(eq(agents.id, agent.agentId))
    const res = await call(
      'POST',
      `/api/agents/${agent.agentId}/create-emergency-replica`,
      { ...vector('emergencyRebalanceV4'), instance_id: agent.instanceId },
      agent.client.auth,
    )
    expect(res.status).toBe(403)
    expect(await db().select().from(replicas).where(eq(replicas.agentId, agent.agentId))).toHaveLength(0)
  })

  it('a ready manual standby in another pool answers an emergency signal', async () => {
    const agent = await newAgent()
    await seedFreshPools(agent.client.id)
    await db().update(agents).set({ manualReplicaEnabled: true }).where(eq(agents.id, agent.agentId))
    const manual = await call(
      'POST',
      `/api/agents/${agent.agentId}/replicas`,
      { instance_id: 'i-0cccc000000000001', pool_id: 't3.medium.us-east-1b', status: 'ready' },
      agent.client.auth,
    )
    expect(manual.json.status).toBe('ready')
    const res = await call(
      'POST',
      `/api/agents/${agent.agentId}/create-emergency-replica`,
      { ...vector('emergencyTerminationV4'), instance_id: agent.instanceId },
      agent.client.auth,
    )
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({
      replica_id: manual.json.replica_id,
      replica_instance_id: 'i-0cccc000000000001',
    })
  })
})
