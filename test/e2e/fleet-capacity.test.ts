/**
 * Capacity as a risk input through a real fleet: the 5.x agent bundle on a simulated m5.large asks the
 * fake EC2's GetSpotPlacementScores (scores from the fake's own capacity) at its interval, the
 * control plane stores them per pool and the engine weighs them. When a zone runs out of spot capacity
 * its next scores drop, and the engine leaves its pools alone however cheap, saying why in the decision
 * and on the instance page's options; with capacity back it moves there. Everything runs on one
 * simulated clock, SPEED times real time. The agent asks every SCORE_EVERY (PLACEMENT_SCORE_INTERVAL):
 * an hour, not the default 6 (test/agent/placement-scores.test.ts holds the default), so each wait for
 * the next scores takes 15 s, not 90.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queryD1, sql } from '../support/d1'
import { eventually } from '../support/eventually'
import { startE2eWorld, type E2eWorld } from '../support/fleet-harness'
import { finished, registered } from '../support/fleet-waits'

const SPEED = 240
const HOUR = 3_600_000
/** The agent's placement-score interval here. */
const SCORE_EVERY = HOUR
/** Real ms a simulated interval of `ms` takes. */
const real = (ms: number) => ms / SPEED
/**
 * Every pool's spot price but the trap's, as a share of its type's on-demand price: the same ratio
 * everywhere, so no pool looks safer or cheaper than another and the engine has no reason to move.
 */
const SPOT_SHARE = 0.4
const CHEAP = 0.01

let world: E2eWorld
/** The zone whose m6a.large pool turns cheap, then runs out of capacity (zone 0 holds the workload). */
let trapAz: string
let trapPool: string
const market = { cheap: false, outage: false }

beforeAll(async () => {
  world = await startE2eWorld({
    agents: 1,
    instanceType: 'm5.large',
    speed: SPEED,
    agentEnv: { PLACEMENT_SCORE_INTERVAL: String(SCORE_EVERY / 1_000) },
  })
  const ec2 = world.fleet.region.ec2
  trapAz = world.fleet.region.zones[1]!
  trapPool = `m6a.large.${trapAz}`
  // Set before the first agent boots (the fleet's first tick): a flat, deterministic market.
  const region = world.fleet.region
  ec2.setSpotPriceModel((type, az) =>
    market.cheap && type === 'm6a.large' && az === trapAz
      ? CHEAP
      : // A type cheaper on demand than m5.large costs as much on spot: none is both cheaper and safer.
        Math.round(
          SPOT_SHARE * Math.max(region.onDemandPriceOf(type), region.onDemandPriceOf('m5.large')) * 10_000,
        ) / 10_000,
  )
  ec2.setSpotCapacityModel((_type, az) => !(market.outage && az === trapAz))
})

afterAll(async () => {
  await world?.stop()
})

interface ScoreRow {
  pool_id: string
  score: number
  scored_at: number
}

const scores = () =>
  queryD1<ScoreRow>(
    world.worker.persistDir,
    `select pool_id, score, scored_at from placement_scores where client_id = '${sql(world.client.id)}'`,
  )

interface DecisionRow {
  decision: string
  target_pool_id: string | null
  command_id: string | null
  reasons: string
  inputs: string
}

async function latestDecision(agentId: string): Promise<DecisionRow | undefined> {
  const [row] = await queryD1<DecisionRow>(
    world.worker.persistDir,
    `select decision, target_pool_id, command_id, reasons, inputs from decisions
     where agent_id = '${sql(agentId)}' and shadow = 0 order by last_seen_at desc, created_at desc limit 1`,
  )
  return row
}

/** What the stored decision saw of a pool. */
function seenOf(decision: DecisionRow, poolId: string) {
  const inputs = JSON.parse(decision.inputs) as {
    pools: Array<{ pool_id: string; risk: number; skipped: string | null; placement_score?: number }>
  }
  return inputs.pools.find((p) => p.pool_id === poolId)
}

const asks = () => world.fleet.region.ec2.requests.filter((r) => r.action === 'GetSpotPlacementScores')

describe('capacity as a risk input', () => {
  it(
    'stores the scores the agent asks at its interval, avoids a cheap zone out of capacity, and moves there once capacity is back',
    { timeout: 480_000 },
    async () => {
      const { api, client, fleet, worker } = world
      const agent = await registered(world, 'agent-1')
      const instanceId = agent.instanceId!
      expect(fleet.region.ec2.instance(instanceId)!.az).toBe(fleet.region.zones[0])

      // 1. The first request, at start: every zone has capacity, every priced pool scores 10.
      const first = await eventually(
        async () => {
          const rows = await scores()
          return rows.some((r) => r.pool_id === trapPool) ? rows : undefined
        },
        { what: 'the first placement scores stored', timeoutMs: 60_000 },
      )
      expect(first.every((r) => r.score === 10)).toBe(true)
      const [ask] = asks()
      expect(asks()).toHaveLength(1)
      const asked = Object.entries(ask!.params)
        .filter(([k]) => k.startsWith('InstanceType.'))
        .map(([, v]) => v)
      // One configuration: the types the agent prices (its own and the compatible ones), one per AZ.
      expect(asked).toEqual(expect.arrayContaining(['m5.large', 'm6a.large']))
      expect(asked.length).toBeGreaterThanOrEqual(3)
      expect(ask!.params).toMatchObject({ SingleAvailabilityZone: 'true', TargetCapacity: '1' })
      expect(new Set(first.map((r) => r.pool_id))).toEqual(
        new Set(asked.flatMap((t) => fleet.region.zones.map((az) => `${t}.${az}`))),
      )
      // The engine's first decision once the pools are priced.
      const calm = await eventually(
        async () => {
          await worker.scheduled('*/5 * * * *')
          return latestDecision(agent.id)
        },
        { what: 'the engine’s first decision', timeoutMs: 30_000, intervalMs: 1_000 },
      )
      expect(calm.decision).toBe('stay')
      expect(seenOf(calm, trapPool)).toMatchObject({ placement_score: 10, skipped: null })

      // 2. The trap: m6a.large in another zone at a third of the others' price, and that zone out of spot capacity.
      // The zone runs out first (the engine also runs after price reports: a cheap pool seen before
      // its scores dropped would be taken, and its launch fail for capacity).
      market.outage = true
      const dropped = await eventually(
        async () => {
          const rows = await scores()
          const trap = rows.find((r) => r.pool_id === trapPool)
          return trap && trap.score < 10 ? rows : undefined
        },
        {
          what: 'the zone’s next scores, an interval on',
          timeoutMs: real(SCORE_EVERY) + 60_000,
          intervalMs: 1_000,
        },
      )
      // That report's pools (the types priced may have changed since the first): the zone's all score 1.
      const trapAt = dropped.find((d) => d.pool_id === trapPool)!.scored_at
      const report = dropped.filter((r) => r.scored_at === trapAt)
      expect(report.filter((r) => r.pool_id.endsWith(`.${trapAz}`)).every((r) => r.score === 1)).toBe(true)
      expect(report.filter((r) => !r.pool_id.endsWith(`.${trapAz}`)).every((r) => r.score === 10)).toBe(true)
      market.cheap = true
      await eventually(
        async () =>
          (
            await queryD1(
              worker.persistDir,
              `select 1 from price_quotes where series = '${sql(trapPool)}' and price = ${CHEAP}`,
            )
          ).length > 0,
        { what: 'the cheap price reported', timeoutMs: 30_000 },
      )

      await worker.scheduled('*/5 * * * *')
      const avoided = (await latestDecision(agent.id))!
      expect(avoided.target_pool_id).not.toBe(trapPool)
      expect(avoided.command_id).toBeNull()
      expect(seenOf(avoided, trapPool)).toMatchObject({ placement_score: 1, skipped: 'above_risk_threshold' })
      expect(seenOf(avoided, trapPool)!.risk).toBeGreaterThan(0.5)
      expect(avoided.reasons).toContain(`pool ${trapPool}: placement score 1/10`)
      const commands = await queryD1(
        worker.persistDir,
        `select id, target_pool_id from commands where agent_id = '${sql(agent.id)}' and source = 'engine'`,
      )
      expect(commands).toEqual([])
      // What the user sees: the decision's reasons on the agent page, the pool skipped on the instance page.
      const agentPage = await (await worker.admin(`/c/${client.id}/agents/${agent.id}`)).text()
      expect(agentPage).toContain(`pool ${trapPool}: placement score 1/10`)
      // The options table is paged (25 rows): skipped pools come after the weighed ones.
      let options = ''
      for (let page = 1; page <= 4; page++)
        options += await (await worker.admin(`/c/${client.id}/instances/${instanceId}?page=${page}`)).text()
      const row = new RegExp(
        `<tr data-type="m6a.large" data-az="${trapAz}" data-why="skipped">([\\s\\S]*?)</tr>`,
      ).exec(options)
      expect(row?.[1]).toContain('above the cap')
      expect(row?.[1]).toContain('spot placement score 1/10: little capacity')
      // EC2 runs nothing there: the workload stayed where it was.
      expect([...fleet.region.ec2.state.instances.values()].filter((i) => i.az === trapAz)).toEqual([])
      expect(fleet.region.ec2.instance(instanceId)!.state).toBe('running')

      // 3. Capacity back: the next scores say so, and the engine takes the cheap pool.
      market.outage = false
      await eventually(async () => (await scores()).find((r) => r.pool_id === trapPool)?.score === 10, {
        what: 'the zone scored 10 again',
        timeoutMs: real(SCORE_EVERY) + 60_000,
        intervalMs: 1_000,
      })
      const command = await eventually(
        async () => {
          // The cron's run, or the one after a price report: the engine's command to that pool.
          await worker.scheduled('*/5 * * * *')
          const [row] = await queryD1<{ id: string }>(
            worker.persistDir,
            `select id from commands where agent_id = '${sql(agent.id)}' and source = 'engine' and target_pool_id = '${sql(trapPool)}'`,
          )
          return row?.id
        },
        { what: 'an engine switch to the pool with capacity again', timeoutMs: 60_000, intervalMs: 2_000 },
      )
      await finished(world, command)
      const history = await eventually(
        async () => (await api.switchHistory(client.id)).find((s) => s.commandId === command),
        { what: 'the switch in history' },
      )
      expect(history).toMatchObject({ trigger: 'model', toPool: trapPool, toType: 'm6a.large' })
      // Asked sparingly: one configuration (the types asked) again only an interval on, never at
      // each price report (a new configuration, the types priced having changed, is asked at once).
      // The first agent's requests: the switch's new instance runs a new agent, which asks at its start
      // (AWS counts a configuration asked again within 24 h once).
      const switchedAt = fleet.region.ec2.instance(history.newInstanceId!)!.launchTime
      const askedBeforeSwitch = asks().filter((r) => r.at < switchedAt)
      const typesOf = (params: Record<string, string>) =>
        Object.entries(params)
          .filter(([k]) => k.startsWith('InstanceType.'))
          .map(([, v]) => v)
          .sort()
          .join(',')
      const lastAsk = new Map<string, number>()
      const gaps: number[] = []
      for (const r of askedBeforeSwitch) {
        const key = typesOf(r.params)
        if (lastAsk.has(key)) gaps.push(r.at - lastAsk.get(key)!)
        lastAsk.set(key, r.at)
      }
      expect(gaps.length).toBeGreaterThan(0)
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(SCORE_EVERY)
      expect(fleet.region.ec2.instance(history.newInstanceId!)).toMatchObject({
        instanceType: 'm6a.large',
        az: trapAz,
        lifecycle: 'spot',
        state: 'running',
      })
    },
  )
})
