/**
 * The 5-minute engine run of one client, in the cron's own invocation: the client's agents in pages
 * of PAGE_SIZE (keyset on id), each page read with one query per table, decided in memory, its
 * decisions stored in one batch. An agent's Durable Object is called only to queue a command (an
 * engine switch, a standby's launch or end), where it is deduped as before. Per agent the steps and
 * their order are those of an agent's own run: replicas kept (maintainStandby, only for agents that
 * have replica work: standby-due.ts), segments synced, then the decision (`decideFor`, `actOn`).
 * Writes: `decisions` (decisions.ts), `usage_segments` (ledger/segments.ts), replicas through
 * maintainStandby; commands only through the agents' objects.
 */
import { and, asc, eq, gt } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { runBatch } from '../../db/batch'
import type { Database } from '../../db/client'
import { agents, type Agent, type Instance } from '../../db/schema'
import { FACTS_CHUNK, loadFactsOfAgents } from '../../db/queries/agent-facts'
import type { Decision, Market } from '../../engine/types'
import type { Env } from '../../env'
import { log } from '../../log'
import { maintainStandby } from '../failover/standby'
import { syncSegmentsOf } from '../ledger/sync-page'
import { decisionWrite, latestDecisionsOf, latestKey } from './decisions'
import { eachBounded } from './each-bounded'
import {
  actOn,
  decideFor,
  ENGINE_AGENTS,
  forClient,
  marketKey,
  marketPlaceOf,
  readMarket,
  type MarketPlace,
  type RunParams,
} from './run'
import { riskWeightsOf } from '../../db/queries/risk-weights'
import { standbyDue } from './standby-due'

/** Agents of a client per page: every read of a page binds their ids (D1: at most 100 parameters). */
export const PAGE_SIZE = FACTS_CHUNK
/** Object calls (commands to queue) and standby runs of a page in flight at once. */
export const ACT_CONCURRENCY = 8

export interface ClientRunSummary {
  agents: number
  commands: number
  /** Agents whose run failed (logged); the page's other agents still ran. */
  failed: number
}

/** What one run shares across a client's pages: the versions and the client's markets by type and region. */
interface ClientContext {
  clientId: string
  params: RunParams
  markets: Map<string, Promise<Market>>
  now: number
}

/**
 * Runs the engine for every engine agent of `clientId` at `now`, with the client's own risk weights. A
 * failing read fails the client.
 */
export async function runClient(
  env: Env,
  db: Database,
  clientId: string,
  params: RunParams,
  now: number,
  pageSize = PAGE_SIZE,
): Promise<ClientRunSummary> {
  const weights = await riskWeightsOf(db, clientId)
  const ctx: ClientContext = { clientId, params: forClient(params, weights), markets: new Map(), now }
  const summary = { agents: 0, commands: 0, failed: 0 }
  let after: string | null = null
  for (;;) {
    const mine = and(eq(agents.clientId, clientId), ENGINE_AGENTS)
    const page = await db
      .select()
      .from(agents)
      .where(after === null ? mine : and(mine, gt(agents.id, after)))
      .orderBy(asc(agents.id))
      .limit(pageSize)
    const ran = await runPage(env, db, ctx, page)
    summary.agents += page.length
    summary.commands += ran.commands
    summary.failed += ran.failed
    if (page.length < pageSize) return summary
    after = page[page.length - 1]!.id
  }
}

/** A decision stored for an agent that may lead to a command. */
interface ToAct {
  agent: Agent
  instance: Instance
  decision: Decision
  decisionId: string
}

/** One page in an agent's own order: replicas kept, segments synced, decisions stored, commands queued. */
async function runPage(
  env: Env,
  db: Database,
  ctx: ClientContext,
  page: Agent[],
): Promise<{ commands: number; failed: number }> {
  const { clientId, now } = ctx
  const failed = new Set<string>()
  const due = await standbyDue(db, clientId, page, now)
  await eachBounded(
    page.filter((a) => due.has(a.id)),
    ACT_CONCURRENCY,
    async (agent) => {
      try {
        await maintainStandby(env, db, agent, now)
      } catch (err) {
        failAgent(failed, agent, err)
      }
    },
  )
  const ok = page.filter((a) => !failed.has(a.id))
  await syncSegmentsOf(db, clientId, ok, now)
  const { writes, toAct } = await decidePage(db, ctx, ok, failed)
  await runBatch(db, writes)
  let commands = 0
  await eachBounded(
    toAct.filter((d) => d.decision.decision !== 'stay' && d.decision.target),
    ACT_CONCURRENCY,
    async ({ agent, instance, decision, decisionId }) => {
      try {
        const action = await actOn(env, db, agent, instance, { decision, decisionId }, { act: true, now })
        if (action.kind === 'command') commands++
      } catch (err) {
        failAgent(failed, agent, err)
      }
    },
  )
  return { commands, failed: failed.size }
}

/**
 * Decides for a page's agents in memory from one read of their facts and latest decisions: the writes
 * that store the decisions (live and shadow), and the decisions that may lead to a command.
 */
async function decidePage(
  db: Database,
  ctx: ClientContext,
  page: Agent[],
  failed: Set<string>,
): Promise<{ writes: BatchItem<'sqlite'>[]; toAct: ToAct[] }> {
  const { clientId, now, params } = ctx
  const [facts, latest] = await Promise.all([
    loadFactsOfAgents(db, clientId, page, now),
    latestDecisionsOf(
      db,
      clientId,
      page.map((a) => a.id),
    ),
  ])
  const placed = page.flatMap((agent) => {
    const fact = facts.get(agent.id)!
    const { instance } = fact
    if (!instance?.instanceType || !instance.region) return []
    return [{ agent, fact, instance, at: marketPlaceOf(agent, instance.instanceType, instance.region) }]
  })
  // Every market of the page starts loading at once; each agent awaits its own.
  for (const { at } of placed) void marketOf(db, ctx, at)
  const writes: BatchItem<'sqlite'>[] = []
  const toAct: ToAct[] = []
  for (const { agent, fact, instance, at } of placed) {
    let market: Market
    try {
      market = await marketOf(db, ctx, at)
    } catch (err) {
      failAgent(failed, agent, err)
      continue
    }
    const decided = decideFor(agent, fact, market, params, now)
    if (!decided) continue
    const live = decisionWrite(
      db,
      agent,
      { version: params.active.version, shadow: false, decision: decided.decision, inputs: decided.inputs },
      latest.get(latestKey(agent.id, false)) ?? null,
      now,
    )
    writes.push(live.statement)
    if (params.shadow && decided.shadow) {
      const shadow = { version: params.shadow.version, shadow: true, ...decided.shadow }
      writes.push(
        decisionWrite(db, agent, shadow, latest.get(latestKey(agent.id, true)) ?? null, now).statement,
      )
    }
    toAct.push({ agent, instance, decision: decided.decision, decisionId: live.id })
  }
  return { writes, toAct }
}

/** The client's market of a place (type, region, the workload's other types), read once per run. */
function marketOf(db: Database, ctx: ClientContext, at: MarketPlace): Promise<Market> {
  const key = marketKey(ctx.clientId, at)
  let market = ctx.markets.get(key)
  if (!market) {
    market = readMarket(db, ctx.clientId, at, ctx.now)
    // Awaited by each agent that needs it; a failure is theirs, never an unhandled rejection.
    market.catch(() => undefined)
    ctx.markets.set(key, market)
  }
  return market
}

function failAgent(failed: Set<string>, agent: Agent, err: unknown): void {
  failed.add(agent.id)
  log.error({ job: 'engine', client_id: agent.clientId, agent_id: agent.id, message: (err as Error).message })
}
