/**
 * What the engine's 5-minute run costs for 200 agents of 4 clients, per agent-hour: Durable Object
 * requests and D1 queries of the per-client run against the per-agent run it replaced (each agent's
 * run in its object: one `engineTick` request per agent, its own reads). docs/capacity.md (## Engine)
 * quotes the numbers this prints.
 */
import { env } from 'cloudflare:test'
import { asc } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents } from '../../../src/db/schema'
import { runClient } from '../../../src/flows/engine-tick/client-run'
import { fanOut } from '../../../src/flows/engine-tick/fan-out'
import { ENGINE_AGENTS, loadRunParams } from '../../../src/flows/engine-tick/run'
import { newClient, type TestClient } from '../agent-api/helpers'
import { agentOn, freshType, reportPrices, setAgent } from './market'
import { metered, objectCallsOf, type Meter } from './meter'
import { perAgentTick } from './per-agent-tick'

const CLIENTS = 4
const PER_CLIENT = 50
const TICKS = 3
// Runs a minute apart: the moves queued by the first run stay pending (a switch expires after 30 minutes).
const TICK_MS = 60_000

/** 50 agents on two instance types: most on spot in the cheapest pool, two moving, one with a standby. */
async function clientFleet(client: TestClient) {
  const types = [freshType(), freshType()]
  for (let i = 0; i < PER_CLIENT; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: 10 }, (_, j) =>
        agentOn(types[(i + j) % 2]!, i + j < 4 ? 'ondemand' : 'spot', '5.0.0', client),
      ),
    )
    if (i === 0) {
      for (const [k, type] of types.entries())
        await reportPrices(batch[k]!, type, { a: 0.0125, b: 0.013, c: 0.03 }, 'spot')
      for (const a of batch.slice(0, 4)) await setAgent(a.agentId, { minPoolDurationHours: 0 })
      await setAgent(batch[5]!.agentId, { manualReplicaEnabled: true, autoSwitchEnabled: false })
    }
  }
}

/** The replaced run: the cron paged the agents (200 a query) and called each agent's object. */
async function perAgentRun(meter: Meter, run: ReturnType<typeof metered>, now: number) {
  const params = await loadRunParams(run.db)
  const fleet = await run.db
    .select({ agentId: agents.id, clientId: agents.clientId })
    .from(agents)
    .where(ENGINE_AGENTS)
    .orderBy(asc(agents.id))
  meter.d1Queries += Math.ceil(fleet.length / 200) - 1
  meter.objectCalls.engineTick = (meter.objectCalls.engineTick ?? 0) + fleet.length
  for (const ref of fleet) await perAgentTick(run.env, run.db, ref, params, now)
  return fleet.length
}

const perAgentHour = (count: number, fleet: number) => Math.round(((count / TICKS) * 12 * 100) / fleet) / 100

describe('the engine run at 200 agents', () => {
  it(
    'costs an object request only per queued command and a few D1 queries per page, where the per-agent run cost one request and ~20 queries per agent',
    { timeout: 600_000 },
    async () => {
      for (let c = 0; c < CLIENTS; c++) await clientFleet(await newClient())
      const start = Date.now() + 1
      const perClient = () => {
        const run = metered(env)
        return { run, go: (now: number) => fanOut(run.db, (id, p) => runClient(run.env, run.db, id, p, now)) }
      }
      // A first run queues the moves the fresh markets allow; the measured runs see a settled fleet.
      await perClient().go(start)

      const before = metered(env)
      const after = perClient()
      let fleet = 0
      let batchedMs = 0
      for (let t = 1; t <= TICKS; t++) {
        fleet = await perAgentRun(before.meter, before, start + (2 * t - 1) * TICK_MS)
        const began = Date.now()
        const summary = await after.go(start + 2 * t * TICK_MS)
        batchedMs += Date.now() - began
        expect(summary).toMatchObject({ clients: CLIENTS, agents: fleet, failed: 0, failedClients: 0 })
      }
      expect(fleet).toBe(CLIENTS * PER_CLIENT)
      const figures = {
        agents: fleet,
        ticks: TICKS,
        per_agent: {
          do_requests_per_agent_hour: perAgentHour(objectCallsOf(before.meter), fleet),
          d1_queries_per_agent_hour: perAgentHour(before.meter.d1Queries, fleet),
          d1_statements_per_agent_hour: perAgentHour(before.meter.d1Statements, fleet),
        },
        per_client: {
          do_requests_per_agent_hour: perAgentHour(objectCallsOf(after.run.meter), fleet),
          d1_queries_per_agent_hour: perAgentHour(after.run.meter.d1Queries, fleet),
          d1_statements_per_agent_hour: perAgentHour(after.run.meter.d1Statements, fleet),
          d1_queries_per_run: Math.round(after.run.meter.d1Queries / TICKS),
          local_ms_per_run: Math.round(batchedMs / TICKS),
        },
        object_calls: { per_agent: before.meter.objectCalls, per_client: after.run.meter.objectCalls },
      }
      console.log(`engine cost ${JSON.stringify(figures)}`)
      // The settled fleet queues nothing new: the per-client run calls no object at all.
      expect(objectCallsOf(after.run.meter)).toBe(0)
      expect(before.meter.objectCalls.engineTick).toBe(TICKS * fleet)
      expect(after.run.meter.d1Queries * 5).toBeLessThan(before.meter.d1Queries)
    },
  )
})
