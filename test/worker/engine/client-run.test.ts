import { env } from 'cloudflare:test'
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { loadAgentFacts } from '../../../src/db/queries/agent-facts'
import { loadMarket } from '../../../src/db/queries/market'
import { commands, decisions, replicas, usageSegments } from '../../../src/db/schema'
import { runClient } from '../../../src/flows/engine-tick/client-run'
import {
  contextOf,
  decideFor,
  loadRunParams,
  runForAgent,
  type Decided,
  type RunParams,
} from '../../../src/flows/engine-tick/run'
import { syncSegments } from '../../../src/flows/ledger/segments'
import { call, db, newClient, type TestAgent, type TestClient } from '../agent-api/helpers'
import { agentOn, freshType, loadAgent, reportPrices, setAgent, switchCommands } from './market'
import { metered, objectCallsOf } from './meter'
import { eventually } from '../../support/eventually'

/** Pool a is the cheapest: a spot agent there stays, an on-demand one moves to spot. */
const PRICES = { a: 0.0125, b: 0.013, c: 0.03 }

/** A client's agents in every state the engine tells apart, on two instance types (two markets). */
async function fleet(client: TestClient) {
  const [one, two] = [freshType(), freshType()]
  const on = async (type: string, mode: 'spot' | 'ondemand', version = '5.0.0') => {
    const a = await agentOn(type, mode, version, client)
    await setAgent(a.agentId, { minPoolDurationHours: 0, autoSwitchEnabled: false })
    return a
  }
  // A report's own run decides for its reporter: spot agents in pool a, kept out of the comparison.
  const reporters = [await on(one, 'spot'), await on(two, 'spot')]
  await reportPrices(reporters[0]!, one, PRICES, 'spot')
  await reportPrices(reporters[1]!, two, PRICES, 'spot')
  const moves = await on(one, 'ondemand')
  const second = await on(two, 'ondemand')
  const stays = await on(one, 'spot')
  const legacy = await on(one, 'ondemand', '4.0.0')
  const suggestOnly = await on(two, 'ondemand')
  const standby = await on(one, 'spot')
  const pending = await on(two, 'ondemand')
  for (const a of [moves, second, stays, legacy, pending])
    await setAgent(a.agentId, { autoSwitchEnabled: true })
  await setAgent(standby.agentId, { manualReplicaEnabled: true })
  // A person's switch is pending for this one: the engine waits for it.
  const queued = await call(
    'POST',
    `/api/agents/${pending.agentId}/issue-switch-command`,
    { target_mode: 'spot', target_pool_id: `${two}.us-east-1b` },
    client.auth,
  )
  expect(queued.status).toBe(201)
  // The engine reads D1's copy of the queue, which the object writes at once or, if D1 refused the
  // write, on its alarm: both paths must decide on the same copy.
  await eventually(async () => (await switchCommands(pending.agentId)).length === 1, {
    what: "the pending switch in D1's copy",
  })
  return {
    one,
    two,
    reporters,
    moves,
    second,
    stays,
    legacy,
    suggestOnly,
    standby,
    pending,
    queued: queued.json.command_id as string,
  }
}

/** What the per-agent path decides for `a` at `now` (its own reads of facts and market). */
async function perAgentDecision(a: TestAgent, params: RunParams, now: number): Promise<Decided | null> {
  const agent = await loadAgent(a.agentId)
  const facts = await loadAgentFacts(db(), agent, now)
  const instance = facts.instance
  if (!instance?.instanceType || !instance.region) return null
  const market = await loadMarket(db(), agent.clientId, instance.instanceType, instance.region, now)
  const decided = decideFor(agent, facts, market, params, now)
  const run = await runForAgent(env, db(), agent, contextOf(params), now, { store: false, act: false })
  expect(run.decision).toEqual(decided?.decision ?? null)
  return decided
}

const storedAt = (agentId: string, now: number) =>
  db()
    .select()
    .from(decisions)
    .where(and(eq(decisions.agentId, agentId), eq(decisions.lastSeenAt, now)))

/** The stored row's view of a decision (what the decisions page and API show), as JSON keeps it. */
const asStored = (d: Decided['decision'], inputs: unknown) =>
  JSON.parse(
    JSON.stringify({
      decision: d.decision,
      targetMode: d.target?.mode ?? null,
      targetPoolId: d.target?.poolId ?? null,
      expectedSavingsPerHour: d.expected_savings_per_hour,
      risk: d.risk,
      confidence: d.confidence,
      reasons: d.reasons,
      blockedBy: d.blocked_by,
      inputs,
    }),
  ) as Record<string, unknown>

describe("a client's engine run, its agents decided together", () => {
  it('stores for every agent the decision (reasons, inputs, shadow) the per-agent path makes on the same data, and acts the same', async () => {
    const client = await newClient()
    const f = await fleet(client)
    const loaded = await loadRunParams(db())
    // A shadow version that asks for more savings than any move here offers.
    const params: RunParams = {
      active: loaded.active,
      shadow: { version: 9_999, params: { ...loaded.active.params, min_savings_percent: 95 } },
    }
    const agents = [f.moves, f.second, f.stays, f.legacy, f.suggestOnly, f.standby, f.pending]
    const now = Date.now() + 1
    const expected = new Map<string, Decided | null>()
    for (const a of agents) expected.set(a.agentId, await perAgentDecision(a, params, now))

    // Pages of 2: the client's markets are read once and shared across its pages.
    const run = metered(env)
    const summary = await runClient(run.env, run.db, client.id, params, now, 2)
    expect(summary).toEqual({ agents: agents.length + f.reporters.length, commands: 2, failed: 0 })

    for (const a of agents) {
      const want = expected.get(a.agentId)!
      expect(want).not.toBeNull()
      const rows = await storedAt(a.agentId, now)
      const live = rows.find((r) => !r.shadow)
      const shadow = rows.find((r) => r.shadow)
      expect(live).toMatchObject({
        ...asStored(want!.decision, want!.inputs),
        paramsVersion: loaded.active.version,
      })
      expect(shadow).toMatchObject({
        ...asStored(want!.shadow!.decision, want!.shadow!.inputs),
        paramsVersion: 9_999,
      })
      // The ledger is where the per-agent sync would have left it: nothing left to open or close.
      expect(await syncSegments(db(), await loadAgent(a.agentId), now)).toEqual({ opened: 0, closed: 0 })
      const open = await db().select().from(usageSegments).where(eq(usageSegments.agentId, a.agentId))
      expect(open.filter((s) => s.endedAt === null && s.role === 'primary')).toHaveLength(1)
    }
    expect(expected.get(f.moves.agentId)!.decision).toMatchObject({ decision: 'to_spot' })
    expect(expected.get(f.stays.agentId)!.decision).toMatchObject({ decision: 'stay' })
    expect(expected.get(f.pending.agentId)!.decision.blocked_by).toContain('command_in_flight')

    // Acting: the two auto-switch 5.x moves are queued in their objects and linked to their decisions.
    for (const a of [f.moves, f.second]) {
      const [command, ...more] = await switchCommands(a.agentId)
      expect(more).toEqual([])
      expect(command).toMatchObject({ source: 'engine', targetMode: 'spot', instanceId: a.instanceId })
      const [live] = (await storedAt(a.agentId, now)).filter((r) => !r.shadow)
      expect(live).toMatchObject({ commandId: command!.id, appliedAt: now })
    }
    for (const a of [f.legacy, f.suggestOnly, f.stays]) expect(await switchCommands(a.agentId)).toEqual([])
    expect(await switchCommands(f.pending.agentId)).toMatchObject([{ id: f.queued }])
    // The manual-mode agent got its standby and the command to launch it.
    const [standby] = await db().select().from(replicas).where(eq(replicas.agentId, f.standby.agentId))
    expect(standby).toMatchObject({
      replicaType: 'manual',
      status: 'launching',
      poolId: `${f.one}.us-east-1b`,
    })
    const launches = await db()
      .select()
      .from(commands)
      .where(and(eq(commands.agentId, f.standby.agentId), eq(commands.commandType, 'create_replica')))
    expect(launches).toHaveLength(1)
    // Objects were called for the three commands only: no call per agent.
    expect(run.meter.objectCalls).toEqual({ enqueue: 3 })

    // The next run repeats what did not change (a bump, no new row) and sees the queued switches.
    const next = now + 300_000
    await runClient(env, db(), client.id, params, next)
    const [again, ...others] = await storedAt(f.stays.agentId, next).then((r) => r.filter((d) => !d.shadow))
    expect(others).toEqual([])
    expect(again).toMatchObject({ decision: 'stay', repeatCount: 2, createdAt: now })
    const [blocked] = (await storedAt(f.moves.agentId, next)).filter((r) => !r.shadow)
    expect(blocked).toMatchObject({ decision: 'stay', blockedBy: ['command_in_flight'], createdAt: next })
    expect(await switchCommands(f.moves.agentId)).toHaveLength(1)
  })

  it('reads D1 a few times per page, not per agent, and calls no object when nothing is to be queued', async () => {
    const client = await newClient()
    const type = freshType()
    const first = await agentOn(type, 'spot', '5.0.0', client)
    await reportPrices(first, type, PRICES, 'spot')
    const rest = await Promise.all(Array.from({ length: 11 }, () => agentOn(type, 'spot', '5.0.0', client)))
    const params = await loadRunParams(db())
    const now = Date.now() + 1
    const run = metered(env)
    const summary = await runClient(run.env, run.db, client.id, params, now)
    expect(summary).toEqual({ agents: rest.length + 1, commands: 0, failed: 0 })
    expect(objectCallsOf(run.meter)).toBe(0)
    // The client's risk weights, then one page: its read, 2 replica checks, 4 ledger reads and a batch,
    // 3 facts, the latest decisions, the decisions' batch, and one market (at most 8 reads: capacity
    // evidence is 2) for twelve agents.
    expect(run.meter.d1Queries).toBeLessThanOrEqual(1 + 14 + 8)
    for (const a of [first, ...rest]) expect(await storedAt(a.agentId, now)).toHaveLength(1)
  })

  it("keeps the replicas of an agent that has one, as the agent's own run did: a launch nobody made expires", async () => {
    const client = await newClient()
    const type = freshType()
    const [plain, withReplica] = [
      await agentOn(type, 'spot', '5.0.0', client),
      await agentOn(type, 'spot', '5.0.0', client),
    ]
    const now = Date.now() + 1
    const replica = {
      clientId: client.id,
      replicaType: 'emergency' as const,
      status: 'launching' as const,
      poolId: `${type}.us-east-1b`,
      instanceType: type,
      region: 'us-east-1',
      az: 'us-east-1b',
      createdAt: now - 31 * 60_000,
      updatedAt: now - 31 * 60_000,
    }
    await db()
      .insert(replicas)
      .values({ ...replica, id: `rep-${crypto.randomUUID()}`, agentId: withReplica.agentId })
    const run = metered(env)
    const summary = await runClient(run.env, run.db, client.id, await loadRunParams(db()), now)
    expect(summary).toMatchObject({ agents: 2, failed: 0 })
    const [expired] = await db().select().from(replicas).where(eq(replicas.agentId, withReplica.agentId))
    expect(expired).toMatchObject({
      status: 'failed',
      errorMessage: expect.stringContaining('never launched'),
    })
    expect(await db().select().from(replicas).where(eq(replicas.agentId, plain.agentId))).toEqual([])
  })
})
