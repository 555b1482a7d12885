/**
 * A workload across instance types: the reporter is told and prices every type its group's workloads
 * may move to, D1 keeps pools per type and AZ, the engine and people may switch to a compatible type
 * (the command names it), the switch record carries both types, and the baseline stays the base type's.
 */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, pools, priceQuotes, switches } from '../../../src/db/schema'
import { ADMIN, call, db, newAgent, type TestAgent, type TestClient } from '../agent-api/helpers'
import { eventually } from '../../support/eventually'
import { setAgent, switchCommands } from './market'

const M5_OD = 0.096
const M6A_OD = 0.0864

const zones = ['a', 'b', 'c'] as const
const spotPool = (type: string, z: string, price: number) => ({
  pool_id: `${type}.us-east-1${z}`,
  instance_type: type,
  az: `us-east-1${z}`,
  price,
})

/** A 5.x report by `a` (on m5.large): its own pools, `others`, and the other types' on-demand prices. */
async function reportTypes(
  a: TestAgent,
  others: ReturnType<typeof spotPool>[],
  onDemand: { instance_type: string; price: number }[],
  own: Record<(typeof zones)[number], number> = { a: 0.05, b: 0.05, c: 0.05 },
) {
  const res = await call(
    'POST',
    `/api/agents/${a.agentId}/pricing-report`,
    {
      instance: {
        instance_id: a.instanceId,
        instance_type: 'm5.large',
        region: 'us-east-1',
        az: 'us-east-1a',
        mode: 'ondemand',
        pool_id: null,
      },
      pricing: {
        on_demand_price: M5_OD,
        current_spot_price: own.a,
        cheapest_pool: null,
        spot_pools: [...zones.map((z) => spotPool('m5.large', z, own[z])), ...others],
        collected_at: new Date().toISOString(),
      },
      spot_history: [],
      on_demand_prices: onDemand,
    },
    a.client.auth,
  )
  expect(res.status).toBe(200)
  return res.json
}

/** An agent on on-demand m5.large in us-east-1a (a new client unless given). */
const onM5 = (version: string, client?: TestClient) =>
  newAgent(client, { instance_type: 'm5.large', mode: 'ondemand', agent_version: version })

async function configOf(a: TestAgent) {
  const res = await call('GET', `/api/agents/${a.agentId}/config`, undefined, a.client.auth)
  expect(res.status).toBe(200)
  return res.json
}

const agentRow = async (agentId: string) =>
  (await db().select().from(agents).where(eq(agents.id, agentId)))[0]!

describe('a workload across instance types', () => {
  it("tells the reporter every type its workloads may move to, and stores those types' pools and on-demand prices, no others", async () => {
    const a = await onM5('5.0.0')
    expect((await agentRow(a.agentId)).baseInstanceType).toBe('m5.large')
    const config = await configOf(a)
    expect(config.pricing_reporter).toBe(true)
    const types: string[] = config.pricing_instance_types
    expect(types[0]).toBe('m5.large')
    expect(types).toEqual(expect.arrayContaining(['m5a.large', 'm6a.large', 'm6i.large']))
    // arm64 never, less memory never, and the list stays short
    expect(types).not.toContain('m6g.large')
    expect(types).not.toContain('c5.large')
    expect(types.length).toBeLessThanOrEqual(8)

    const answer = await reportTypes(
      a,
      [spotPool('m6a.large', 'a', 0.03), spotPool('m6a.large', 'b', 0.031), spotPool('m6g.large', 'a', 0.01)],
      [
        { instance_type: 'm6a.large', price: M6A_OD },
        { instance_type: 'm6g.large', price: 0.077 },
      ],
    )
    expect(answer.ignored_pools).toEqual(['m6g.large.us-east-1a'])
    const [pool] = await db().select().from(pools).where(eq(pools.id, 'm6a.large.us-east-1b'))
    expect(pool).toMatchObject({ instanceType: 'm6a.large', az: 'us-east-1b', region: 'us-east-1' })
    const quotes = await db().select().from(priceQuotes).where(eq(priceQuotes.clientId, a.client.id))
    const series = Object.fromEntries(quotes.map((q) => [q.series, q.price]))
    expect(series).toMatchObject({
      'm6a.large.us-east-1a': 0.03,
      'ondemand:m6a.large:us-east-1': M6A_OD,
      'ondemand:m5.large:us-east-1': M5_OD,
    })
    expect(series['ondemand:m6g.large:us-east-1']).toBeUndefined()
    expect(series['m6g.large.us-east-1a']).toBeUndefined()
  })

  it("keeps an installed agent's report to its own type (4.0.0 bodies unchanged)", async () => {
    const legacy = await onM5('4.0.0')
    expect((await configOf(legacy)).pricing_instance_types).toBeUndefined()
    const answer = await reportTypes(legacy, [spotPool('m6a.large', 'a', 0.03)], [])
    expect(answer.ignored_pools).toEqual(['m6a.large.us-east-1a'])
  })

  it('switches a 5.x workload to a cheaper compatible type: the command names the type, an installed agent stays on its own', async () => {
    const modern = await onM5('5.0.0')
    await setAgent(modern.agentId, { minPoolDurationHours: 0, autoSwitchEnabled: true })
    // The report's own engine run decides at once: m6a.large in b is far cheaper than any m5.large pool.
    await reportTypes(
      modern,
      [spotPool('m6a.large', 'a', 0.045), spotPool('m6a.large', 'b', 0.02)],
      [{ instance_type: 'm6a.large', price: M6A_OD }],
    )
    const [command] = await eventually(
      async () => {
        const found = await switchCommands(modern.agentId)
        return found.length > 0 ? found : undefined
      },
      { what: 'the engine switch' },
    )
    expect(command).toMatchObject({ targetMode: 'spot', targetPoolId: 'm6a.large.us-east-1b' })
    const pending = await call(
      'GET',
      `/api/agents/${modern.agentId}/pending-commands?instance_id=${modern.instanceId}`,
      undefined,
      modern.client.auth,
    )
    expect(pending.json[0]).toMatchObject({
      command_type: 'switch',
      target_pool_id: 'm6a.large.us-east-1b',
      target_instance_type: 'm6a.large',
    })

    // The same market, seen by an installed agent with the opt-in: only its own type's pools are candidates.
    const legacy = await onM5('4.0.0', modern.client)
    await setAgent(legacy.agentId, {
      minPoolDurationHours: 0,
      autoSwitchEnabled: true,
      legacyAutoSwitchOptIn: true,
    })
    await reportTypes(legacy, [], [], { a: 0.03, b: 0.05, c: 0.05 })
    const [own] = await eventually(
      async () => {
        const found = await switchCommands(legacy.agentId)
        return found.length > 0 ? found : undefined
      },
      { what: "the installed agent's engine switch" },
    )
    expect(own!.targetPoolId).toMatch(/^m5\.large\./)
  })

  it('lets a person switch to a pool of a compatible type, never to one the image cannot boot or of an installed agent', async () => {
    const modern = await onM5('5.0.0')
    const legacy = await onM5('4.0.0', modern.client)
    const now = Date.now()
    await db()
      .insert(pools)
      .values(
        ['m6a.large', 'm6g.large'].map((t) => ({
          id: `${t}.us-east-1b`,
          instanceType: t,
          region: 'us-east-1',
          az: 'us-east-1b',
          createdAt: now,
        })),
      )
      .onConflictDoNothing()
    const force = (a: TestAgent, poolId: string) =>
      call(
        'POST',
        `/api/client/instances/${a.instanceId}/force-switch`,
        { target: 'pool', pool_id: poolId },
        ADMIN,
      )
    const arm = await force(modern, 'm6g.large.us-east-1b')
    expect(arm.status).toBe(400)
    expect((await force(legacy, 'm6a.large.us-east-1b')).status).toBe(400)
    expect(await switchCommands(modern.agentId)).toEqual([])
    const ok = await force(modern, 'm6a.large.us-east-1b')
    expect(ok.status).toBe(200)
    expect(ok.json.success).toBe(true)
    const [command] = await eventually(
      async () => {
        const found = await switchCommands(modern.agentId)
        return found.length > 0 ? found : undefined
      },
      { what: "the switch in D1's copy" },
    )
    expect(command!.payload).toMatchObject({ target_instance_type: 'm6a.large' })
  })

  it("records a switch to another type with both types and the base type's on-demand baseline, and keeps the base type when the workload registers on the new type", async () => {
    const a = await onM5('5.0.0')
    await reportTypes(a, [spotPool('m6a.large', 'b', 0.021)], [{ instance_type: 'm6a.large', price: M6A_OD }])
    const newInstanceId = `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
    const side = (instanceId: string, type: string, mode: string) => ({
      instance_id: instanceId,
      instance_type: type,
      region: 'us-east-1',
      az: mode === 'spot' ? 'us-east-1b' : 'us-east-1a',
      ami_id: 'ami-1',
      mode,
      pool_id: mode === 'spot' ? `${type}.us-east-1b` : null,
    })
    const report = await call(
      'POST',
      `/api/agents/${a.agentId}/switch-report`,
      {
        command_id: `cmd_${crypto.randomUUID()}`,
        trigger: 'manual',
        old_instance: side(a.instanceId, 'm5.large', 'ondemand'),
        new_instance: side(newInstanceId, 'm6a.large', 'spot'),
        snapshot: { used: true, ami_id: 'ami-2' },
        timing: { switch_initiated_at: new Date().toISOString() },
      },
      a.client.auth,
    )
    expect(report.status).toBe(201)
    const [row] = await db()
      .select()
      .from(switches)
      .where(and(eq(switches.agentId, a.agentId), eq(switches.newInstanceId, newInstanceId)))
    expect(row).toMatchObject({
      instanceType: 'm6a.large',
      oldInstanceType: 'm5.large',
      newPoolId: 'm6a.large.us-east-1b',
      newPrice: 0.021,
      onDemandPrice: M5_OD,
    })
    const history = await call('GET', `/api/client/${a.client.id}/switch-history`, undefined, ADMIN)
    expect(history.json[0]).toMatchObject({ fromType: 'm5.large', toType: 'm6a.large' })

    const again = await call(
      'POST',
      '/api/agents/register',
      {
        instance_id: newInstanceId,
        instance_type: 'm6a.large',
        region: 'us-east-1',
        az: 'us-east-1b',
        mode: 'spot',
        agent_version: '5.0.0',
        logical_agent_id: (await agentRow(a.agentId)).logicalAgentId,
      },
      a.client.auth,
    )
    expect(again.status).toBe(200)
    expect((await agentRow(a.agentId)).baseInstanceType).toBe('m5.large')
    const types: string[] = again.json.config.pricing_instance_types
    expect(types.slice(0, 2)).toEqual(['m6a.large', 'm5.large'])
  })
})
