/**
 * What the workload's image boots, as its 5.x agent described it at registration (DescribeImages:
 * `image_architecture`, `image_ena_support`), is stored per agent and decides the types the engine may
 * move the workload to; without it, what the base type proves stands in.
 */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, commands, replicas } from '../../../src/db/schema'
import { ADMIN, call, db, newAgent, type TestAgent } from '../agent-api/helpers'
import { eventually } from '../../support/eventually'
import { freshType, setAgent, switchCommands } from './market'

const zones = ['a', 'b', 'c'] as const
type Zone = (typeof zones)[number]
const spotPool = (type: string, z: Zone, price: number) => ({
  pool_id: `${type}.us-east-1${z}`,
  instance_type: type,
  az: `us-east-1${z}`,
  price,
})

/** A 5.x agent on on-demand `type` in us-east-1a, with what its image boots when given. */
const onDemandAgent = (type: string, image?: { architecture: string; ena: boolean }) =>
  newAgent(undefined, {
    instance_type: type,
    mode: 'ondemand',
    agent_version: '5.0.0',
    ami_id: 'ami-0123456789abcdef0',
    ...(image ? { image_architecture: image.architecture, image_ena_support: image.ena } : {}),
  })

/** A 5.x pricing report of `a` on `type`: its own pools at `own`, `others`, their types' on-demand prices. */
async function report(
  a: TestAgent,
  type: string,
  own: Record<Zone, number>,
  onDemand: number,
  others: ReturnType<typeof spotPool>[],
  othersOnDemand: { instance_type: string; price: number }[],
) {
  const res = await call(
    'POST',
    `/api/agents/${a.agentId}/pricing-report`,
    {
      instance: {
        instance_id: a.instanceId,
        instance_type: type,
        region: 'us-east-1',
        az: 'us-east-1a',
        mode: 'ondemand',
        pool_id: null,
      },
      pricing: {
        on_demand_price: onDemand,
        current_spot_price: own.a,
        cheapest_pool: null,
        spot_pools: [...zones.map((z) => spotPool(type, z, own[z])), ...others],
        collected_at: new Date().toISOString(),
      },
      spot_history: [],
      on_demand_prices: othersOnDemand,
    },
    a.client.auth,
  )
  expect(res.status).toBe(200)
  return res.json as { ignored_pools: string[] }
}

async function pricedTypesOf(a: TestAgent): Promise<string[]> {
  const res = await call('GET', `/api/agents/${a.agentId}/config`, undefined, a.client.auth)
  expect(res.status).toBe(200)
  return res.json.pricing_instance_types
}

const agentRow = async (agentId: string) =>
  (await db().select().from(agents).where(eq(agents.id, agentId)))[0]!

/** The engine's first switch of `a` (its report runs the engine at once). */
const firstSwitch = async (a: TestAgent) =>
  (
    await eventually(
      async () => {
        const found = await switchCommands(a.agentId)
        return found.length > 0 ? found : undefined
      },
      { what: 'the engine switch' },
    )
  )[0]!

describe("the workload's image decides the types it may move to", () => {
  it('never moves an x86 image to an arm64 type: a type the table does not know moves, by its image, to the allowed x86 type', async () => {
    const type = freshType()
    const a = await onDemandAgent(type, { architecture: 'x86_64', ena: true })
    expect(await agentRow(a.agentId)).toMatchObject({ imageArchitecture: 'x86_64', imageEnaSupport: true })
    await setAgent(a.agentId, {
      allowedInstanceTypes: ['m6g.large', 'm6i.large'],
      minPoolDurationHours: 0,
      autoSwitchEnabled: true,
    })
    expect(await pricedTypesOf(a)).toEqual([type, 'm6i.large'])
    const answer = await report(
      a,
      type,
      { a: 0.09, b: 0.09, c: 0.09 },
      0.1,
      [spotPool('m6g.large', 'b', 0.01), spotPool('m6i.large', 'c', 0.02)],
      [
        { instance_type: 'm6g.large', price: 0.077 },
        { instance_type: 'm6i.large', price: 0.096 },
      ],
    )
    expect(answer.ignored_pools).toEqual(['m6g.large.us-east-1b'])
    expect(await firstSwitch(a)).toMatchObject({ targetMode: 'spot', targetPoolId: 'm6i.large.us-east-1c' })

    // The same workload whose agent could not describe its image: nothing proves what it boots.
    const unknown = await onDemandAgent(freshType())
    await setAgent(unknown.agentId, { allowedInstanceTypes: ['m6g.large', 'm6i.large'] })
    expect(await agentRow(unknown.agentId)).toMatchObject({ imageArchitecture: null, imageEnaSupport: null })
    expect(await pricedTypesOf(unknown)).toHaveLength(1)
  })

  it('never moves an image without ENA to a type that requires it, and moves one with ENA there', async () => {
    const m4Pools = { a: 0.05, b: 0.03, c: 0.05 }
    const nitro = [spotPool('m5.large', 'b', 0.01)]
    const nitroOnDemand = [{ instance_type: 'm5.large', price: 0.096 }]

    const withoutEna = await onDemandAgent('m4.large', { architecture: 'x86_64', ena: false })
    await setAgent(withoutEna.agentId, { minPoolDurationHours: 0, autoSwitchEnabled: true })
    expect(await pricedTypesOf(withoutEna)).toEqual(['m4.large'])
    const refused = await report(withoutEna, 'm4.large', m4Pools, 0.1, nitro, nitroOnDemand)
    expect(refused.ignored_pools).toEqual(['m5.large.us-east-1b'])
    expect(await firstSwitch(withoutEna)).toMatchObject({ targetPoolId: 'm4.large.us-east-1b' })

    const withEna = await onDemandAgent('m4.large', { architecture: 'x86_64', ena: true })
    await setAgent(withEna.agentId, { minPoolDurationHours: 0, autoSwitchEnabled: true })
    expect(await pricedTypesOf(withEna)).toContain('m5.large')
    const accepted = await report(withEna, 'm4.large', m4Pools, 0.1, nitro, nitroOnDemand)
    expect(accepted.ignored_pools).toEqual([])
    const command = await firstSwitch(withEna)
    expect(command).toMatchObject({ targetPoolId: 'm5.large.us-east-1b' })
    expect(command.payload).toMatchObject({ target_instance_type: 'm5.large' })
  })

  it('forgets what an image boots when the agent registers without saying (another image, not described)', async () => {
    const a = await onDemandAgent('m4.large', { architecture: 'x86_64', ena: true })
    const row = await agentRow(a.agentId)
    const again = await call(
      'POST',
      '/api/agents/register',
      {
        instance_id: a.instanceId,
        instance_type: 'm4.large',
        region: 'us-east-1',
        az: 'us-east-1a',
        mode: 'ondemand',
        agent_version: '5.0.0',
        logical_agent_id: row.logicalAgentId,
      },
      a.client.auth,
    )
    expect(again.status).toBe(200)
    expect(await agentRow(a.agentId)).toMatchObject({ imageArchitecture: null, imageEnaSupport: null })
    expect(again.json.config.pricing_instance_types).toEqual(['m4.large'])
  })

  it("refuses a person's replica in a pool of a type the image cannot boot, and launches one in a compatible type's pool as that type", async () => {
    const a = await onDemandAgent('m5.large', { architecture: 'x86_64', ena: true })
    await setAgent(a.agentId, { manualReplicaEnabled: true })
    const create = (poolId: string) =>
      call('POST', `/api/client/agents/${a.agentId}/replicas`, { poolId }, ADMIN)
    const arm = await create('m6g.large.us-east-1b')
    expect(arm.status).toBe(400)
    expect(JSON.stringify(arm.json)).toContain("m6g.large is arm64; the workload's image boots x86_64")
    expect(await db().select().from(replicas).where(eq(replicas.agentId, a.agentId))).toEqual([])

    const ok = await create('m6a.large.us-east-1b')
    expect(ok.status).toBe(201)
    const [replica] = await db().select().from(replicas).where(eq(replicas.agentId, a.agentId))
    expect(replica).toMatchObject({ instanceType: 'm6a.large', az: 'us-east-1b', status: 'launching' })
    const [command] = await eventually(
      async () => {
        const found = await db()
          .select()
          .from(commands)
          .where(and(eq(commands.agentId, a.agentId), eq(commands.commandType, 'create_replica')))
        return found.length > 0 ? found : undefined
      },
      { what: "the replica's launch in D1's copy" },
    )
    expect(command!.payload).toMatchObject({ replica_id: replica!.id })
  })
})
