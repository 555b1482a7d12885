/**
 * A workload moved to another instance type, end to end: wrangler dev, the 5.x agent bundle on a
 * simulated m5.large, the fakes of EC2 (one market per type), Price List and IMDS. The agent prices
 * the compatible types it is told to, a switch to an m6a.large pool launches an m6a.large from the
 * workload's image, and history, the switch record and the ledger carry both types.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queryD1, sql } from '../support/d1'
import { eventually } from '../support/eventually'
import { startE2eWorld, type E2eWorld } from '../support/fleet-harness'
import { finished, registered } from '../support/fleet-waits'

let world: E2eWorld

beforeAll(async () => {
  // Reports every 5 s, so that a price the test sets reaches the engine within its waits.
  world = await startE2eWorld({
    agents: 2,
    instanceType: 'm5.large',
    agentEnv: { PRICING_REPORT_INTERVAL: '5' },
  })
})

afterAll(async () => {
  await world?.stop()
})

const HOUR = 3_600_000

describe('a fleet switch to another instance type', () => {
  it('runs the new type on EC2, prices it at its own pool with the base type as baseline, and shows both types in history', async () => {
    const { api, fleet, client, worker } = world
    const agent = await registered(world, 'agent-1')
    const oldInstanceId = agent.instanceId!
    const old = fleet.region.ec2.instance(oldInstanceId)!
    expect(old.instanceType).toBe('m5.large')
    const targetAz = fleet.region.zones.find((az) => az !== old.az)!
    const targetPool = `m6a.large.${targetAz}`
    const rows = (text: string) => queryD1(worker.persistDir, text)
    await eventually(
      async () =>
        (await rows(`select 1 from price_quotes where series = '${targetPool}'`)).length > 0 &&
        (await rows(`select 1 from price_quotes where series = 'ondemand:m6a.large:us-east-1'`)).length > 0,
      { what: 'the other type priced by the reporter', timeoutMs: 30_000 },
    )
    // One DescribeSpotPriceHistory call priced every type it was told to.
    const priced = fleet.region.ec2.requests.find(
      (r) => r.action === 'DescribeSpotPriceHistory' && r.params['InstanceType.2'] !== undefined,
    )
    expect(priced?.params['InstanceType.1']).toBe('m5.large')

    const queued = await api.forceSwitch(oldInstanceId, { target: 'pool', pool_id: targetPool })
    expect(queued.success).toBe(true)
    await finished(world, queued.command_id!)

    const history = await eventually(
      async () => (await api.switchHistory(client.id)).find((s) => s.commandId === queued.command_id),
      { what: 'the switch in history' },
    )
    expect(history).toMatchObject({
      fromPool: `m5.large.${old.az}`,
      toPool: targetPool,
      fromType: 'm5.large',
      toType: 'm6a.large',
    })
    const created = fleet.region.ec2.instance(history.newInstanceId!)!
    expect(created).toMatchObject({
      instanceType: 'm6a.large',
      az: targetAz,
      lifecycle: 'spot',
      state: 'running',
    })
    expect(fleet.region.ec2.state.images.get(created.imageId)?.sourceInstanceId).toBe(oldInstanceId)

    // The switch record: the new type's price, the base type's on-demand price.
    const [record] = await queryD1<{ new_price: number; on_demand_price: number }>(
      worker.persistDir,
      `select new_price, on_demand_price from switches where command_id = '${sql(queued.command_id!)}'`,
    )
    // A price of the m6a.large pool (a change point EC2 stamped before the switch may still arrive later).
    const m6aPrices = await queryD1<{ price: number }>(
      worker.persistDir,
      `select price from spot_prices where pool_id = '${targetPool}'`,
    )
    expect(m6aPrices.map((p) => p.price)).toContain(record!.new_price)
    expect(record!.on_demand_price).toBe(0.096)

    // The ledger: the new instance's segment is of the new type and pool; the baseline stays m5.large's.
    const segments = await eventually(
      async () => {
        await worker.scheduled('*/5 * * * *')
        const found = await queryD1<{
          instance_id: string
          instance_type: string
          pool_id: string
          ended_at: number | null
          started_at: number
        }>(
          worker.persistDir,
          `select instance_id, instance_type, pool_id, started_at, ended_at from usage_segments where agent_id = '${sql(agent.id)}' and role = 'primary' order by started_at`,
        )
        const fresh = found.find((s) => s.instance_id === history.newInstanceId)
        return fresh && found.some((s) => s.instance_id === oldInstanceId && s.ended_at !== null)
          ? found
          : undefined
      },
      { what: 'ledger segments of both types', intervalMs: 1_000 },
    )
    expect(segments.find((s) => s.instance_id === history.newInstanceId)).toMatchObject({
      instance_type: 'm6a.large',
      pool_id: targetPool,
    })
    const [base] = await queryD1<{ base_instance_type: string }>(
      worker.persistDir,
      `select base_instance_type from agents where id = '${sql(agent.id)}'`,
    )
    expect(base!.base_instance_type).toBe('m5.large')
    await worker.scheduled('0 * * * *')
    const days = await queryD1<{ baseline_cost: number; computed_at: number }>(
      worker.persistDir,
      `select baseline_cost, computed_at from savings_daily where agent_id = '${sql(agent.id)}'`,
    )
    const computedAt = days[0]!.computed_at
    const baseline = days.reduce((s, d) => s + d.baseline_cost, 0)
    // The workload ran from its first segment on; the baseline is priced from the first on-demand price.
    const [firstOd] = await queryD1<{ at: number }>(
      worker.persistDir,
      `select min(observed_at) as at from ondemand_prices where instance_type = 'm5.large'`,
    )
    const hours = (computedAt - Math.max(segments[0]!.started_at, firstOd!.at)) / HOUR
    // At m5.large's $0.096/h; m6a.large's $0.0864/h would be 10 % less.
    expect(baseline).toBeLessThanOrEqual(hours * 0.096 * 1.0001)
    expect(baseline).toBeGreaterThan(hours * 0.096 * 0.97)
  })

  it('lets the engine move a workload to a much cheaper pool of a compatible type, saying why', async () => {
    const { api, fleet, client, worker } = world
    const agent = await registered(world, 'agent-2')
    const oldInstanceId = agent.instanceId!
    const oldAz = fleet.region.ec2.instance(oldInstanceId)!.az
    const targetAz = fleet.region.zones.find((az) => az !== oldAz)!
    const targetPool = `m6a.large.${targetAz}`
    // m6a.large in one AZ drops to a third of what any m5.large pool costs; once the control plane has
    // that price, the agent may move (its minimum stay, 2 h by default, kept it where it was until then).
    const market = fleet.region.ec2.state.spotPriceModel!
    fleet.region.ec2.setSpotPriceModel((type, az, at) =>
      type === 'm6a.large' && az === targetAz ? 0.01 : market(type, az, at),
    )
    await eventually(
      async () =>
        (
          await queryD1(
            worker.persistDir,
            `select 1 from price_quotes where series = '${targetPool}' and price = 0.01`,
          )
        ).length > 0,
      { what: 'the drop reported', timeoutMs: 60_000 },
    )
    await api.configure(agent.id, { minPoolDurationHours: 0 })
    const command = await eventually(
      async () => {
        await worker.scheduled('*/5 * * * *')
        const [row] = await queryD1<{ id: string; target_pool_id: string }>(
          worker.persistDir,
          `select id, target_pool_id from commands where agent_id = '${sql(agent.id)}' and command_type = 'switch' and source = 'engine'`,
        )
        return row
      },
      { what: 'an engine switch of agent-2', timeoutMs: 90_000, intervalMs: 2_000 },
    )
    expect(command.target_pool_id).toBe(targetPool)
    const [decision] = await queryD1<{ reasons: string }>(
      worker.persistDir,
      `select reasons from decisions where command_id = '${sql(command.id)}'`,
    )
    expect(decision!.reasons).toContain('instance type m6a.large instead of m5.large')
    await finished(world, command.id)
    const history = await eventually(
      async () => (await api.switchHistory(client.id)).find((s) => s.commandId === command.id),
      { what: 'the engine switch in history' },
    )
    expect(history).toMatchObject({
      trigger: 'model',
      fromType: 'm5.large',
      toType: 'm6a.large',
      toPool: targetPool,
    })
    expect(fleet.region.ec2.instance(history.newInstanceId!)).toMatchObject({
      instanceType: 'm6a.large',
      az: targetAz,
      lifecycle: 'spot',
    })
  })
})
