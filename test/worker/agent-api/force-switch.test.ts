/** POST /api/client/instances/:instanceId/force-switch: one pending switch per instance, "already there". */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, commands, pools } from '../../../src/db/schema'
import { ADMIN, call, db, newAgent, seedFreshPools, tableCounts } from './helpers'

const forceSwitch = (instanceId: string, body: unknown, headers: Record<string, string> = ADMIN) =>
  call('POST', `/api/client/instances/${instanceId}/force-switch`, body, headers)

const commandsOf = (agentId: string) => db().select().from(commands).where(eq(commands.agentId, agentId))

describe('force-switch', () => {
  it("queues a switch with priority 75 and the agent's own wait, and never a second while it is pending", async () => {
    const agent = await newAgent()
    await seedFreshPools(agent.client.id)
    const res = await forceSwitch(agent.instanceId, { target: 'ondemand' })
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({
      success: true,
      command_id: expect.any(String),
      message: expect.any(String),
    })
    expect(await commandsOf(agent.agentId)).toMatchObject([
      {
        id: res.json.command_id,
        commandType: 'switch',
        instanceId: agent.instanceId,
        targetMode: 'ondemand',
        priority: 75,
        terminateWaitSeconds: 300,
        source: 'manual',
        status: 'queued',
      },
    ])
    const second = await forceSwitch(agent.instanceId, { target: 'pool', pool_id: 't3.medium.us-east-1c' })
    expect(second.status).toBe(409)
    expect(second.json).toMatchObject({ success: false, command_id: res.json.command_id })
    expect(await commandsOf(agent.agentId)).toHaveLength(1)
  })

  it('sends wait 0 (keep the old instance) when the agent has auto-terminate off', async () => {
    const agent = await newAgent()
    await db().update(agents).set({ autoTerminateEnabled: false }).where(eq(agents.id, agent.agentId))
    const res = await forceSwitch(agent.instanceId, { target: 'ondemand' })
    expect(res.json.success).toBe(true)
    const [row] = await commandsOf(agent.agentId)
    expect(row?.terminateWaitSeconds).toBe(0)
  })

  it('answers 200 success:false when the instance is already in that placement, and queues nothing', async () => {
    const onSpot = await newAgent() // t3.medium.us-east-1a
    await seedFreshPools(onSpot.client.id)
    for (const body of [{ target: 'pool', pool_id: 't3.medium.us-east-1a' }, { target: 'spot' }]) {
      const res = await forceSwitch(onSpot.instanceId, body)
      expect([res.status, res.json.success]).toEqual([200, false])
    }
    const onDemand = await newAgent(undefined, { mode: 'on-demand' })
    const res = await forceSwitch(onDemand.instanceId, { target: 'ondemand' })
    expect([res.status, res.json.success]).toEqual([200, false])
    expect(await commandsOf(onSpot.agentId)).toHaveLength(0)
    expect(await commandsOf(onDemand.agentId)).toHaveLength(0)
  })

  it('to spot without a pool: another freshly priced pool of the same type and region', async () => {
    const agent = await newAgent(undefined, { mode: 'ondemand' })
    await seedFreshPools(agent.client.id)
    const res = await forceSwitch(agent.instanceId, { target: 'spot' })
    expect(res.json.success).toBe(true)
    const [row] = await commandsOf(agent.agentId)
    expect(row?.targetMode).toBe('spot')
    expect(['t3.medium.us-east-1a', 't3.medium.us-east-1b', 't3.medium.us-east-1c']).toContain(
      row?.targetPoolId,
    )
  })

  it('validates the pool and the target, and writes nothing on bad input', async () => {
    const now = Date.now()
    await db()
      .insert(pools)
      .values({
        id: 'm5.large.us-east-1a',
        instanceType: 'm5.large',
        region: 'us-east-1',
        az: 'us-east-1a',
        createdAt: now,
      })
      .onConflictDoNothing()
    const agent = await newAgent()
    await seedFreshPools(agent.client.id)
    const before = await tableCounts()
    const cases: [unknown, number][] = [
      [{ target: 'pool' }, 400],
      [{ target: 'pool', pool_id: 't3.medium.us-west-2a' }, 400],
      [{ target: 'spot', pool_id: 'm5.large.us-east-1a' }, 400],
      [{ target: 'elsewhere' }, 400],
      ['{"target":', 400],
    ]
    for (const [body, status] of cases) {
      const res = await forceSwitch(agent.instanceId, body)
      expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), status])
      expect(res.contentType).toContain('application/json')
    }
    expect((await forceSwitch('i-00000000000000000', { target: 'ondemand' })).status).toBe(404)
    expect((await forceSwitch(agent.instanceId, { target: 'ondemand' }, {})).status).toBe(401)
    expect((await forceSwitch(agent.instanceId, { target: 'ondemand' }, agent.client.auth)).status).toBe(401)
    expect(await tableCounts()).toEqual(before)
  })

  it('a legacy 3.2.0 agent gets the switch too (the only command it knows)', async () => {
    const agent = await newAgent(undefined, { agent_version: '3.2.0' })
    const res = await forceSwitch(agent.instanceId, { target: 'ondemand' })
    expect(res.json.success).toBe(true)
    const rows = await db()
      .select()
      .from(commands)
      .where(and(eq(commands.agentId, agent.agentId), eq(commands.commandType, 'switch')))
    expect(rows).toHaveLength(1)
  })
})
