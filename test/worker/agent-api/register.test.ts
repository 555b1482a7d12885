/** Registration: identity by logical id, the token rules, deleted agents stay deleted, standby replicas wait. */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, clients, instances, replicas, type REPLICA_STATUSES } from '../../../src/db/schema'
import { ADMIN, call, db, newAgent, newClient, tableCounts } from './helpers'
import { vector } from './vectors'

describe('POST /api/agents/register', () => {
  it('returns the same agent for the same logical id and moves it to the new instance', async () => {
    const client = await newClient()
    const first = await call('POST', '/api/agents/register', vector('registerV4'), client.auth)
    const second = await call(
      'POST',
      '/api/agents/register',
      { ...vector('registerV4'), instance_id: 'i-0f9e8d7c6b5a40321', az: 'us-east-1b', mode: 'spot' },
      client.auth,
    )
    expect(second.status).toBe(200)
    expect(second.json.agent_id).toBe(first.json.agent_id)
    const [agent] = await db().select().from(agents).where(eq(agents.id, first.json.agent_id))
    expect(agent?.instanceId).toBe('i-0f9e8d7c6b5a40321')
    const rows = await db().select().from(instances).where(eq(instances.agentId, first.json.agent_id))
    expect(rows.map((r) => [r.instanceId, r.mode, r.poolId]).sort()).toEqual([
      ['i-0a1b2c3d4e5f60718', 'ondemand', null],
      ['i-0f9e8d7c6b5a40321', 'spot', 't3.medium.us-east-1b'],
    ])
  })

  it('keeps an instance EC2 is ending (an interruption nothing replaced) ending when its agent restarts on it', async () => {
    const client = await newClient()
    const first = await call('POST', '/api/agents/register', vector('registerV4'), client.auth)
    const instanceId = vector('registerV4').instance_id as string
    const end = Date.now() + 90_000
    await db()
      .update(instances)
      .set({ status: 'terminating', terminatedAt: end })
      .where(eq(instances.agentId, first.json.agent_id))
    const again = await call('POST', '/api/agents/register', vector('registerV4'), client.auth)
    expect(again.status).toBe(200)
    const rows = await db().select().from(instances).where(eq(instances.agentId, first.json.agent_id))
    expect(rows).toEqual([expect.objectContaining({ instanceId, status: 'terminating', terminatedAt: end })])
  })

  it('falls back to the instance id when logical_agent_id is missing', async () => {
    const client = await newClient()
    const { logical_agent_id: _, ...body } = vector('registerV4')
    const res = await call('POST', '/api/agents/register', body, client.auth)
    expect(res.status).toBe(200)
    const [agent] = await db().select().from(agents).where(eq(agents.id, res.json.agent_id))
    expect(agent?.logicalAgentId).toBe('i-0a1b2c3d4e5f60718')
  })

  it('keeps the same logical id apart for two clients', async () => {
    const a = await call('POST', '/api/agents/register', vector('registerV4'), (await newClient()).auth)
    const b = await call('POST', '/api/agents/register', vector('registerV4'), (await newClient()).auth)
    expect(a.json.agent_id).not.toBe(b.json.agent_id)
  })

  it('refuses a deleted agent with 410 and changes nothing', async () => {
    const { client, agentId } = await newAgent(undefined, { logical_agent_id: 'gone-1' })
    await db().update(agents).set({ status: 'deleted', deletedAt: Date.now() }).where(eq(agents.id, agentId))
    const before = await tableCounts()
    const res = await call(
      'POST',
      '/api/agents/register',
      { ...vector('registerV4'), logical_agent_id: 'gone-1', instance_id: 'i-0123456789abcdef0' },
      client.auth,
    )
    expect(res.status).toBe(410)
    expect(res.json).toMatchObject({ code: 'GONE', error: expect.any(String) })
    expect(await tableCounts()).toEqual(before)
    const [agent] = await db().select().from(agents).where(eq(agents.id, agentId))
    expect(agent?.status).toBe('deleted')
  })

  it('answers 401 for a missing or unknown token and 403 for a suspended client', async () => {
    const { client_token: _, ...noToken } = vector('registerV4')
    expect((await call('POST', '/api/agents/register', noToken)).status).toBe(401)
    expect(
      (await call('POST', '/api/agents/register', { ...noToken, client_token: 'sgc_nope' })).status,
    ).toBe(401)
    expect(
      (await call('POST', '/api/agents/register', noToken, { Authorization: 'Bearer sgc_nope' })).status,
    ).toBe(401)
    const client = await newClient()
    await db().update(clients).set({ status: 'suspended' }).where(eq(clients.id, client.id))
    const before = await tableCounts()
    const res = await call('POST', '/api/agents/register', noToken, client.auth)
    expect(res.status).toBe(403)
    expect(res.json.code).toBe('FORBIDDEN')
    expect(await tableCounts()).toEqual(before)
  })

  it('names the offending fields of a wrong body (400) and writes nothing', async () => {
    const client = await newClient()
    const before = await tableCounts()
    const res = await call(
      'POST',
      '/api/agents/register',
      { ...vector('registerV4'), instance_id: 42, region: ['us-east-1'] },
      client.auth,
    )
    expect(res.status).toBe(400)
    expect(res.json.fields.map((f: { field: string }) => f.field).sort()).toEqual(['instance_id', 'region'])
    expect(await tableCounts()).toEqual(before)
  })
})

describe("POST /api/agents/register from a switch's new instance (5.x)", () => {
  const v5 = { ...vector('registerV4'), agent_version: '5.0.0', logical_agent_id: 'workload-1' }
  const next = { ...v5, instance_id: 'i-0f9e8d7c6b5a40321', az: 'us-east-1b', mode: 'spot' }

  it('answers 409 standby while the agent runs online elsewhere, and writes nothing (a failed switch terminates it)', async () => {
    const client = await newClient()
    const first = await call('POST', '/api/agents/register', v5, client.auth)
    const before = await tableCounts()
    const early = await call('POST', '/api/agents/register', next, client.auth)
    expect(early.status).toBe(409)
    expect(early.json).toMatchObject({ action: 'standby', replica_id: null, instance_id: v5.instance_id })
    expect(await tableCounts()).toEqual(before)
    const [agent] = await db().select().from(agents).where(eq(agents.id, first.json.agent_id))
    expect(agent?.instanceId).toBe(v5.instance_id)
  })

  it('takes the workload over once the agent went offline, or its instance ended', async () => {
    for (const gone of ['offline', 'terminated'] as const) {
      const client = await newClient()
      const first = await call('POST', '/api/agents/register', v5, client.auth)
      const agentId = first.json.agent_id as string
      if (gone === 'offline')
        await db().update(agents).set({ status: 'offline' }).where(eq(agents.id, agentId))
      else
        await db()
          .update(instances)
          .set({ status: 'terminated', terminatedAt: Date.now() - 1_000 })
          .where(eq(instances.agentId, agentId))
      const moved = await call('POST', '/api/agents/register', next, client.auth)
      expect([gone, moved.status]).toEqual([gone, 200])
      const [agent] = await db().select().from(agents).where(eq(agents.id, agentId))
      expect(agent?.instanceId).toBe(next.instance_id)
    }
  })
})

describe('POST /api/agents/register from a replica', () => {
  /** A 5.x agent on its primary with one replica of `status` on instance `i-0replica...`. */
  async function withReplica(status: (typeof REPLICA_STATUSES)[number]) {
    const logical = `web-${crypto.randomUUID()}`
    const primary = await newAgent(undefined, { logical_agent_id: logical, agent_version: '5.0.0' })
    const replicaId = `rep-${crypto.randomUUID()}`
    const replicaInstance = `i-0${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
    const now = Date.now()
    await db().insert(replicas).values({
      id: replicaId,
      clientId: primary.client.id,
      agentId: primary.agentId,
      instanceId: replicaInstance,
      replicaType: 'emergency',
      status,
      poolId: 't3.medium.us-east-1b',
      instanceType: 't3.medium',
      region: 'us-east-1',
      az: 'us-east-1b',
      parentInstanceId: primary.instanceId,
      createdAt: now,
      launchedAt: now,
      updatedAt: now,
    })
    const body = (extra: Record<string, unknown> = {}) => ({
      logical_agent_id: logical,
      instance_id: replicaInstance,
      instance_type: 't3.medium',
      region: 'us-east-1',
      az: 'us-east-1b',
      mode: 'spot',
      agent_version: '5.0.0',
      ...extra,
    })
    const agentRow = async () => (await db().select().from(agents).where(eq(agents.id, primary.agentId)))[0]!
    return { ...primary, logical, replicaId, replicaInstance, body, agentRow }
  }

  it('answers 409 standby to a live replica that is not promoted (5.x by replica_id, 4.0.0 by its instance) and writes nothing', async () => {
    const r = await withReplica('ready')
    const agentBefore = await r.agentRow()
    const before = await tableCounts()
    const v5 = await call('POST', '/api/agents/register', r.body({ replica_id: r.replicaId }), r.client.auth)
    expect(v5.status).toBe(409)
    expect(v5.json).toMatchObject({
      error: 'standby replica: not promoted yet',
      action: 'standby',
      replica_id: r.replicaId,
      retry_after_seconds: 5,
    })
    // An installed 4.0.0 agent booting on the replica (its launch copied the tags) sends its own body.
    const { client_token: _, ...legacy } = vector('registerV4')
    const v4 = await call(
      'POST',
      '/api/agents/register',
      { ...legacy, logical_agent_id: r.logical, instance_id: r.replicaInstance },
      r.client.auth,
    )
    expect(v4.status).toBe(409)
    expect(v4.json).toMatchObject({ action: 'standby', replica_id: r.replicaId })
    expect(await tableCounts()).toEqual(before)
    expect(await r.agentRow()).toEqual(agentBefore)
    expect(agentBefore.instanceId).toBe(r.instanceId)
    const rows = await db().select().from(instances).where(eq(instances.instanceId, r.replicaInstance))
    expect(rows).toEqual([])
  })

  it('registers the replica normally once it is promoted, and the agent moves to it', async () => {
    const r = await withReplica('syncing')
    expect(
      (await call('POST', '/api/agents/register', r.body({ replica_id: r.replicaId }), r.client.auth)).status,
    ).toBe(409)
    const promoted = await call(
      'POST',
      `/api/client/agents/${r.agentId}/replicas/${r.replicaId}/promote`,
      {},
      ADMIN,
    )
    expect(promoted.status).toBe(200)
    const res = await call('POST', '/api/agents/register', r.body({ replica_id: r.replicaId }), r.client.auth)
    expect(res.status).toBe(200)
    expect(res.json.agent_id).toBe(r.agentId)
    expect((await r.agentRow()).instanceId).toBe(r.replicaInstance)
    const [row] = await db().select().from(instances).where(eq(instances.instanceId, r.replicaInstance))
    expect(row).toMatchObject({ agentId: r.agentId, status: 'active' })
  })

  it("answers 409 standby to a switch's new instance carrying the promoted replica's tag, and writes nothing", async () => {
    const r = await withReplica('ready')
    await call('POST', `/api/client/agents/${r.agentId}/replicas/${r.replicaId}/promote`, {}, ADMIN)
    const onReplica = r.body({ replica_id: r.replicaId })
    expect((await call('POST', '/api/agents/register', onReplica, r.client.auth)).status).toBe(200)
    const before = await tableCounts()
    // The switch's new instance, launched from the promoted replica, boots with its ReplicaId tag; the
    // switch then fails and terminates it: D1 must still name the promoted replica's instance.
    const next = { ...onReplica, instance_id: 'i-0aaaabbbbccccdddd', az: 'us-east-1c' }
    const res = await call('POST', '/api/agents/register', next, r.client.auth)
    expect(res.status).toBe(409)
    expect(res.json).toMatchObject({ action: 'standby', replica_id: null, instance_id: r.replicaInstance })
    expect(await tableCounts()).toEqual(before)
    expect((await r.agentRow()).instanceId).toBe(r.replicaInstance)
    const rows = await db().select().from(instances).where(eq(instances.instanceId, next.instance_id))
    expect(rows).toEqual([])
  })

  it('answers 410 replica_ended to a replica that ended, and writes nothing', async () => {
    for (const status of ['terminated', 'failed'] as const) {
      const r = await withReplica(status)
      const before = await tableCounts()
      const res = await call(
        'POST',
        '/api/agents/register',
        r.body({ replica_id: r.replicaId }),
        r.client.auth,
      )
      expect(res.status).toBe(410)
      expect(res.json).toMatchObject({
        action: 'replica_ended',
        replica_id: r.replicaId,
        replica_status: status,
      })
      const { client_token: _, ...legacy } = vector('registerV4')
      const v4 = await call(
        'POST',
        '/api/agents/register',
        { ...legacy, logical_agent_id: r.logical, instance_id: r.replicaInstance },
        r.client.auth,
      )
      expect(v4.status).toBe(410)
      expect(await tableCounts()).toEqual(before)
      expect((await r.agentRow()).instanceId).toBe(r.instanceId)
    }
  })

  it('registers an instance whose replica id it never recorded, and its own primary whatever the tag says', async () => {
    const r = await withReplica('ready')
    // The primary itself, carrying a ReplicaId tag (a promoted replica's instance keeps it).
    const own = await call(
      'POST',
      '/api/agents/register',
      { ...r.body({ replica_id: r.replicaId }), instance_id: r.instanceId },
      r.client.auth,
    )
    expect(own.status).toBe(200)
    // An instance the agent launched on its own (control plane unreachable) is no replica on record.
    const unknown = await call(
      'POST',
      '/api/agents/register',
      { ...r.body({ replica_id: 'local-notice-1' }), instance_id: 'i-0fedcba9876543210' },
      r.client.auth,
    )
    expect(unknown.status).toBe(200)
    expect((await r.agentRow()).instanceId).toBe('i-0fedcba9876543210')
  })
})
