/**
 * Runs the engine for an agent: reads what it needs from D1, decides, stores the decision, and acts.
 * The 5-minute run of each agent happens in its Durable Object (fan-out.ts, tickAgent).
 * With auto-switch on (and manual replica mode off), an allowed move becomes a switch command
 * (priority 25, 50 when urgent; one pending switch per instance); otherwise it stays a suggestion.
 * Legacy agents (< 5) are switched only with the client's per-agent opt-in. A shadow version decides
 * too, its decisions stored apart, never acted on.
 */
import { and, eq, isNotNull, isNull, ne } from 'drizzle-orm'
import { queueSwitch } from '../switch/command'
import type { Database } from '../../db/client'
import { agents, type Agent } from '../../db/schema'
import type { Env } from '../../env'
import { log } from '../../log'
import type { EngineTickResult, RunParams } from '../../session/types'
import { syncSegments } from '../ledger/segments'
import { PRIORITY } from '../../protocol'
import { loadAgentFacts } from '../../db/queries/agent-facts'
import { activeParams, shadowParams } from '../../db/queries/engine-params'
import { loadMarket } from '../../db/queries/market'
import { engineInput } from '../../engine/agent-input'
import { decide } from '../../engine/decide'
import { inputsSummary, suggestionOnly, type AgentRun, type RunMode } from '../../engine/run'
import type { Market } from '../../engine/types'
import { maintainStandby } from '../failover/standby'
import { markApplied, storeDecision } from './decisions'

/** The agents the engine runs for: enabled, not deleted, with an instance. */
export const ENGINE_AGENTS = and(
  eq(agents.enabled, true),
  ne(agents.status, 'deleted'),
  isNull(agents.deletedAt),
  isNotNull(agents.instanceId),
)

/** Shared across the agents of one run: parameter versions and markets by client, type and region. */
export interface RunContext extends RunParams {
  markets: Map<string, Promise<Market>>
}

/** The parameter versions in effect (plain data: the cron loads them once and hands them to each agent). */
export async function loadRunParams(db: Database): Promise<RunParams> {
  const [active, shadow] = await Promise.all([activeParams(db), shadowParams(db)])
  return { active, shadow }
}

export function contextOf(params: RunParams): RunContext {
  return { active: params.active, shadow: params.shadow, markets: new Map() }
}

export async function runContext(db: Database): Promise<RunContext> {
  return contextOf(await loadRunParams(db))
}

/** Decides for one agent, then stores and acts as `mode` says. */
export async function runForAgent(
  env: Env,
  db: Database,
  agent: Agent,
  ctx: RunContext,
  now: number,
  mode: RunMode,
): Promise<AgentRun> {
  const facts = await loadAgentFacts(db, agent, now)
  const instance = facts.instance
  if (!instance?.instanceType || !instance.region)
    return { agentId: agent.id, decision: null, decisionId: null, action: { kind: 'none' } }
  // Keyed by client too: each client sees its own prices (db/queries/quotes.ts).
  const key = `${agent.clientId}|${instance.instanceType}|${instance.region}`
  if (!ctx.markets.has(key))
    ctx.markets.set(key, loadMarket(db, agent.clientId, instance.instanceType, instance.region, now))
  const market = await ctx.markets.get(key)!
  const input = engineInput(agent, facts, market, ctx.active.params, now)
  if (!input) return { agentId: agent.id, decision: null, decisionId: null, action: { kind: 'none' } }

  const decision = decide(input, ctx.active.params)
  if (!mode.store) return { agentId: agent.id, decision, decisionId: null, action: { kind: 'none' } }
  const stored = await storeDecision(
    db,
    agent,
    { version: ctx.active.version, shadow: false, decision, inputs: inputsSummary(input, ctx.active) },
    now,
  )
  if (ctx.shadow) {
    const shadowInput = engineInput(agent, facts, market, ctx.shadow.params, now)!
    const shadowDecision = decide(shadowInput, ctx.shadow.params)
    await storeDecision(
      db,
      agent,
      {
        version: ctx.shadow.version,
        shadow: true,
        decision: shadowDecision,
        inputs: inputsSummary(shadowInput, ctx.shadow),
      },
      now,
    )
  }
  const run = { agentId: agent.id, decision, decisionId: stored.id }
  if (decision.decision === 'stay' || !decision.target) return { ...run, action: { kind: 'none' } }
  const why = suggestionOnly(agent)
  if (why || !mode.act) return { ...run, action: { kind: 'suggestion', why: why ?? 'decided on request' } }
  const target =
    decision.target.mode === 'spot' && decision.target.poolId
      ? { mode: 'spot' as const, poolId: decision.target.poolId }
      : { mode: 'ondemand' as const, poolId: null }
  const result = await queueSwitch(env, agent, instance, target, {
    priority: decision.urgent ? PRIORITY.engineUrgent : PRIORITY.engine,
    source: 'engine',
  })
  if (result.ok) {
    await markApplied(db, stored.id, result.commandId, now)
    return { ...run, action: { kind: 'command', commandId: result.commandId } }
  }
  if (result.reason === 'duplicate')
    return { ...run, action: { kind: 'duplicate', commandId: result.commandId } }
  return { ...run, action: { kind: 'suggestion', why: result.message } }
}

/** After a pricing report: the reporting agent at once, in the background of the request. */
export async function runAfterReport(env: Env, db: Database, agent: Agent, now: number): Promise<void> {
  if (!agent.enabled || agent.status === 'deleted') return
  try {
    await runForAgent(env, db, agent, await runContext(db), now, { store: true, act: true })
  } catch (err) {
    log.error({ job: 'engine-after-report', agent_id: agent.id, message: (err as Error).message })
  }
}

/**
 * One agent's 5-minute run, inside its Durable Object (the cron fans out): the row read again (the
 * cron's page may be a moment old; only an enabled agent with an instance runs), its standby kept, its
 * segments synced, then a decision.
 */
export async function tickAgent(
  env: Env,
  db: Database,
  ref: { clientId: string; agentId: string },
  params: RunParams,
  now: number,
): Promise<EngineTickResult> {
  const [agent] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.id, ref.agentId), eq(agents.clientId, ref.clientId), ENGINE_AGENTS))
    .limit(1)
  if (!agent) return { kind: 'skipped' }
  await maintainStandby(env, db, agent, now)
  await syncSegments(db, agent, now)
  const run = await runForAgent(env, db, agent, contextOf(params), now, { store: true, act: true })
  return { kind: 'decided', action: run.action.kind }
}
