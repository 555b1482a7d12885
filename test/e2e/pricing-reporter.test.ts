/**
 * One pricing reporter among five push agents of one client and type, across real processes: only it
 * asks EC2 for prices and reports; when its instance dies, another takes over on the control plane's
 * word (config refresh is set to an hour, so only the pushed `config_changed` can tell it), and every
 * change point EC2 has is in D1 at EC2's own time: no gap in the history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queryD1, sql } from '../support/d1'
import { eventually } from '../support/eventually'
import { startE2eWorld, type E2eWorld } from '../support/fleet-harness'
import { registered } from '../support/fleet-waits'
import { LINUX } from '../fakes/ec2/prices'

let world: E2eWorld

beforeAll(async () => {
  world = await startE2eWorld({
    agents: 5,
    agentEnv: { PRICING_REPORT_INTERVAL: '10', CONFIG_REFRESH_INTERVAL: '3600' },
  })
})

afterAll(async () => {
  await world?.stop()
})

/** The access keys (one per instance role session) that asked EC2 for spot prices since `from`. */
function askersSince(from: number): string[] {
  return world.fleet.region.ec2.requests
    .filter((r) => r.action === 'DescribeSpotPriceHistory' && r.at >= from)
    .map((r) => r.accessKeyId ?? '')
}

async function reporterRow(): Promise<{ agent_id: string; instance_id: string } | undefined> {
  const [row] = await queryD1<{ agent_id: string; instance_id: string }>(
    world.worker.persistDir,
    `select r.agent_id, a.instance_id from pricing_reporters r join agents a on a.id = r.agent_id
      where r.client_id = '${sql(world.client.id)}'`,
  )
  return row
}

describe('five push agents of one client and type', () => {
  it('have one reporter, and another when it dies, with every EC2 change point stored at its time', async () => {
    const ec2 = world.fleet.region.ec2
    const agents = await Promise.all(world.fleet.logicalAgentIds.map((id) => registered(world, id)))
    const startedAt = ec2.state.clock.now()
    // Three report intervals: one agent asks EC2 each time, the four others never.
    const asked = await eventually(() => askersSince(startedAt).length >= 3 && askersSince(startedAt), {
      what: 'three pricing reports',
    })
    expect(new Set(asked).size).toBe(1)
    const first = (await reporterRow())!
    expect(agents.map((a) => a.id)).toContain(first.agent_id)

    // Its instance ends without notice: the agent falls silent, is counted offline, the cron re-elects.
    ec2.terminate(first.instance_id)
    // A change while nobody reports, at a known time: the next reporter's first report must bring it.
    const gap = { az: world.fleet.region.zones[0]!, at: ec2.state.clock.now() }
    ec2.setSpotPrice('t3.medium', gap.az, 0.5, gap.at)
    // D1's status, which the election reads (pages may show offline a moment before D1 has it).
    await eventually(
      async () => {
        const [row] = await queryD1<{ status: string }>(
          world.worker.persistDir,
          `select status from agents where id = '${sql(first.agent_id)}'`,
        )
        return row?.status === 'offline'
      },
      { what: 'the reporter offline in D1', timeoutMs: 240_000 },
    )
    const electedAt = ec2.state.clock.now()
    await world.worker.scheduled('*/5 * * * *')
    const second = (await reporterRow())!
    expect(second.agent_id).not.toBe(first.agent_id)
    // Told over its socket, the new reporter asks EC2 at once (its config refresh is an hour away).
    const next = await eventually(() => askersSince(electedAt)[0], { what: 'the new reporter asking EC2' })
    expect(asked).not.toContain(next)
    await eventually(() => askersSince(electedAt).length >= 2, {
      what: 'a second report of the new reporter',
    })
    expect(new Set(askersSince(electedAt))).toEqual(new Set([next]))

    // Every change point EC2 has since the agents started is in D1 at EC2's time, gap or not in reports.
    const expected = ec2.state.spotPrices
      .filter((p) => p.instanceType === 't3.medium' && p.productDescription === LINUX && p.at >= startedAt)
      .map((p) => ({ pool: `t3.medium.${p.az}`, at: p.at, price: p.price }))
    expect(expected).toContainEqual({ pool: `t3.medium.${gap.az}`, at: gap.at, price: 0.5 })
    await eventually(
      async () => {
        const rows = await queryD1<{ pool: string; at: number; price: number }>(
          world.worker.persistDir,
          `select pool_id as pool, observed_at as at, price from spot_prices
            where reported_by_client_id = '${sql(world.client.id)}' and observed_at >= ${startedAt}`,
        )
        return expected.every((e) =>
          rows.some((r) => r.pool === e.pool && r.at === e.at && r.price === e.price),
        )
      },
      { what: "EC2's change points in D1" },
    )
  })
})
