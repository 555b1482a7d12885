import { env } from 'cloudflare:test'
import { and, eq, isNull } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import {
  agents,
  ondemandPrices,
  savingsDaily,
  spotPrices,
  switches,
  usageSegments,
} from '../../../src/db/schema'
import { rollUpSavings } from '../../../src/flows/ledger/rollup-job'
import { syncSegments } from '../../../src/flows/ledger/segments'
import { CRON_HOURLY } from '../../../src/cron'
import { runScheduled } from '../../../src/scheduled'
import { ADMIN, call, db, newClient } from '../agent-api/helpers'
import { eventually } from '../../support/eventually'
import { agentOn, freshType, loadAgent } from './market'

const H = 3_600_000

/** An agent of a new client with hand-made closed segments yesterday (no instances: nothing to sync). */
async function handMadeLedger() {
  const client = await newClient()
  const type = freshType()
  const day =
    Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - 24 * H
  const agentId = `agt_${crypto.randomUUID().slice(0, 8)}`
  await db().insert(agents).values({
    id: agentId,
    clientId: client.id,
    logicalAgentId: agentId,
    status: 'offline',
    createdAt: day,
    updatedAt: day,
  })
  await db()
    .insert(spotPrices)
    .values([
      { poolId: `${type}.us-east-1a`, price: 0.01, observedAt: day },
      { poolId: `${type}.us-east-1b`, price: 0.02, observedAt: day },
    ])
  await db()
    .insert(ondemandPrices)
    .values({ instanceType: type, region: 'us-east-1', price: 0.04, observedAt: day })
  const seg = (
    instanceId: string,
    role: 'primary' | 'replica' | 'overlap',
    mode: 'spot' | 'ondemand',
    pool: string | null,
    from: number,
    to: number,
  ) => ({
    id: `seg_${crypto.randomUUID()}`,
    clientId: client.id,
    agentId,
    instanceId,
    role,
    mode,
    poolId: pool ? `${type}.us-east-1${pool}` : null,
    instanceType: type,
    region: 'us-east-1',
    startedAt: day + from * H,
    endedAt: day + to * H,
  })
  await db()
    .insert(usageSegments)
    .values([
      seg('i-old', 'primary', 'spot', 'a', 10, 14),
      seg('i-rep', 'replica', 'spot', 'b', 11, 12),
      seg('i-old', 'overlap', 'spot', 'a', 14, 14.5),
      seg('i-new', 'primary', 'ondemand', null, 14, 16),
    ])
  return { client, agentId, type }
}

describe('savings ledger in the Worker', () => {
  it('rolls up a day exactly (a switch, a replica, an overlap) and serves it per client, agent and pool', async () => {
    const { client, agentId, type } = await handMadeLedger()
    await rollUpSavings(db(), Date.now())
    await runScheduled(CRON_HOURLY, env, Date.now()) // recomputing changes nothing
    const rows = await db().select().from(savingsDaily).where(eq(savingsDaily.agentId, agentId))
    expect(rows).toHaveLength(1)
    // baseline 6 h × 0.04; primary 4 h × 0.01 + 2 h × 0.04; replica 1 h × 0.02; overlap 0.5 h × 0.01
    expect(rows[0]).toMatchObject({
      baselineCost: expect.closeTo(0.24, 9),
      primaryCost: expect.closeTo(0.12, 9),
      replicaCost: expect.closeTo(0.02, 9),
      overlapCost: expect.closeTo(0.005, 9),
      savings: expect.closeTo(0.095, 9),
    })

    expect((await call('GET', `/api/client/${client.id}/savings`)).status).toBe(401)
    const res = await call('GET', `/api/client/${client.id}/savings?range=daily`, undefined, ADMIN)
    expect(res.status).toBe(200)
    expect(res.json.lifetime).toEqual({
      baseline: 0.24,
      cost: 0.145,
      savings: 0.095,
      percent_saved: expect.closeTo(39.583333, 5),
    })
    expect(res.json.series).toEqual([
      {
        day: rows[0]!.day,
        baseline: 0.24,
        cost: 0.145,
        savings: 0.095,
        percent_saved: expect.closeTo(39.583333, 5),
      },
    ])
    expect(res.json).toHaveProperty('projected_month')
    expect(res.json.downtime_per_switch).toMatchObject({ switches: 0 })
    const monthly = await call('GET', `/api/client/${client.id}/savings?range=monthly`, undefined, ADMIN)
    expect(monthly.json.series[0]).toMatchObject({ month: rows[0]!.day.slice(0, 7) })

    const perAgent = await call(
      'GET',
      `/api/client/${client.id}/savings/agents?period=lifetime`,
      undefined,
      ADMIN,
    )
    expect(perAgent.json.agents).toEqual([
      {
        agent_id: agentId,
        baseline: 0.24,
        cost: 0.145,
        replica_cost: 0.02,
        savings: 0.095,
        percent_saved: expect.closeTo(39.583333, 5),
      },
    ])
    const perPool = await call(
      'GET',
      `/api/client/${client.id}/savings/pools?period=lifetime`,
      undefined,
      ADMIN,
    )
    expect(perPool.json.pools).toEqual(
      expect.arrayContaining([
        {
          pool_id: `${type}.us-east-1a`,
          mode: 'spot',
          role: 'primary',
          hours: 4,
          cost: 0.04,
          ondemand_cost: 0.16,
          savings: 0.12,
        },
        {
          pool_id: null,
          mode: 'ondemand',
          role: 'primary',
          hours: 2,
          cost: 0.08,
          ondemand_cost: 0.08,
          savings: 0,
        },
        {
          pool_id: `${type}.us-east-1b`,
          mode: 'spot',
          role: 'replica',
          hours: 1,
          cost: 0.02,
          ondemand_cost: 0,
          savings: -0.02,
        },
        {
          pool_id: `${type}.us-east-1a`,
          mode: 'spot',
          role: 'overlap',
          hours: 0.5,
          cost: 0.005,
          ondemand_cost: 0,
          savings: -0.005,
        },
      ]),
    )
  })

  it('opens segments at registration and moves them at a switch report, at server times', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const agent = await loadAgent(a.agentId)
    await syncSegments(db(), agent, Date.now())
    const segmentsOf = () => db().select().from(usageSegments).where(eq(usageSegments.agentId, a.agentId))
    const [primary, ...none] = await segmentsOf()
    expect(none).toEqual([])
    expect(primary).toMatchObject({
      instanceId: a.instanceId,
      role: 'primary',
      mode: 'spot',
      poolId: `${type}.us-east-1a`,
      endedAt: null,
    })

    const newInstance = `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
    const side = (id: string, az: string, mode: string) => ({
      instance_id: id,
      instance_type: type,
      region: 'us-east-1',
      az,
      ami_id: 'ami-1',
      mode,
      pool_id: mode === 'spot' ? `${type}.${az}` : null,
    })
    const report = await call(
      'POST',
      `/api/agents/${a.agentId}/switch-report`,
      {
        old_instance: side(a.instanceId, 'us-east-1a', 'spot'),
        new_instance: side(newInstance, 'us-east-1b', 'ondemand'),
        snapshot: { used: true },
        trigger: 'manual',
      },
      a.client.auth,
    )
    expect(report.status).toBe(201)
    await syncSegments(db(), await loadAgent(a.agentId), Date.now())
    const [sw] = await db().select().from(switches).where(eq(switches.agentId, a.agentId))
    const after = await segmentsOf()
    const find = (instanceId: string, role: string) =>
      after.find((s) => s.instanceId === instanceId && s.role === role)
    expect(find(a.instanceId, 'primary')).toMatchObject({ endedAt: sw!.receivedAt })
    expect(find(a.instanceId, 'overlap')).toMatchObject({
      startedAt: sw!.receivedAt,
      endedAt: null,
      poolId: `${type}.us-east-1a`,
    })
    expect(find(newInstance, 'primary')).toMatchObject({
      startedAt: sw!.receivedAt,
      endedAt: null,
      mode: 'ondemand',
      poolId: null,
    })
    expect(
      await db()
        .select()
        .from(usageSegments)
        .where(and(eq(usageSegments.agentId, a.agentId), eq(usageSegments.role, 'replica'))),
    ).toEqual([])
  })

  it("bills a switch's new instance from its launch, which the report says, not from when the control plane heard of it", async () => {
    // The new instance's agent asks to register minutes after EC2 launched it (it waits until the
    // switch is reported), and the report comes after the status checks: EC2 billed the instance all
    // along (soak seed 2: ledgers 2 % under the bill).
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const [row] = await db().select().from(agents).where(eq(agents.id, a.agentId))
    const fresh = `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
    const registered = await call(
      'POST',
      '/api/agents/register',
      {
        instance_id: fresh,
        instance_type: type,
        region: 'us-east-1',
        az: 'us-east-1b',
        mode: 'spot',
        agent_version: '5.0.0',
        logical_agent_id: row!.logicalAgentId,
      },
      a.client.auth,
    )
    expect([registered.status, registered.json.action]).toEqual([409, 'standby'])
    await syncSegments(db(), await loadAgent(a.agentId), Date.now())
    const launchedAt = Date.now() - 9 * 60_000
    const side = (id: string, az: string) => ({
      instance_id: id,
      instance_type: type,
      region: 'us-east-1',
      az,
      mode: 'spot',
      pool_id: `${type}.${az}`,
    })
    const report = await call(
      'POST',
      `/api/agents/${a.agentId}/switch-report`,
      {
        old_instance: side(a.instanceId, 'us-east-1a'),
        new_instance: side(fresh, 'us-east-1b'),
        trigger: 'model',
        timing: {
          switch_initiated_at: new Date(launchedAt - 5 * 60_000).toISOString(),
          new_instance_launched_at: new Date(launchedAt).toISOString(),
        },
      },
      a.client.auth,
    )
    expect(report.status).toBe(201)
    await syncSegments(db(), await loadAgent(a.agentId), Date.now())
    const primaries = await db()
      .select()
      .from(usageSegments)
      .where(and(eq(usageSegments.instanceId, fresh), eq(usageSegments.role, 'primary')))
    expect(primaries).toMatchObject([{ startedAt: launchedAt, endedAt: null }])
  })

  it('opens each segment once when syncs of one agent run at the same time', async () => {
    // A switch's new instance registering and the old one's switch report each sync the agent; run at
    // once, both read no open segment for the new instance and both opened one (soak seed 1, 24 h:
    // agents 2 and 6 billed twice for hours, ledger 13-17 % above EC2's bill).
    const type = freshType()
    const a = await agentOn(type, 'ondemand')
    const agent = await loadAgent(a.agentId)
    const open = () =>
      db()
        .select()
        .from(usageSegments)
        .where(and(eq(usageSegments.agentId, a.agentId), isNull(usageSegments.endedAt)))
    // The registration's own sync opened the primary; start again from none.
    await eventually(async () => (await open()).length > 0, { what: "the registration's segment" })
    await db().delete(usageSegments).where(eq(usageSegments.agentId, a.agentId))
    const now = Date.now()
    await Promise.all([1, 2, 3].map(() => syncSegments(db(), agent, now)))
    expect(await open()).toMatchObject([
      { instanceId: a.instanceId, role: 'primary', mode: 'ondemand', poolId: null },
    ])
  })
})
