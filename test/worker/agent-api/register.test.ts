/** Registration: identity by logical id, the token rules, deleted agents stay deleted. */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, clients, instances } from '../../../src/db/schema'
import { call, db, newAgent, newClient, tableCounts } from './helpers'
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
