/**
 * Runs the engine for an agent: reads what it needs from D1, decides, stores the decision, and acts.
 * The 5-minute run decides for a client's agents together (client-run.ts) through the same pure
 * `decideFor` and the same `actOn`; this per-agent path serves a pricing report and the engine routes.
 * With auto-switch on (and manual replica mode off), an allowed move becomes a switch command
 * (priority 25, 50 when urgent; one pending switch per instance); otherwise it stays a suggestion.
 * Legacy agents (< 5) are switched only with the client's per-agent opt-in. A shadow version decides
 * too, its decisions stored apart, never acted on. Both decide with the client's own risk weights
 * (`forClient`).
 */
import { and, eq, isNotNull, isNull, ne } from 'drizzle-orm'
import { queueSwitch } from '../switch/command'
import type { Database } from '../../db/client'
import { agents, type Agent, type Instance } from '../../db/schema'
import type { Env } from '../../env'
import { log } from '../../log'
import { PRIORITY } from '../../protocol'
import { loadAgentFacts } from '../../db/queries/agent-facts'
import { activeParams, shadowParams } from '../../db/queries/engine-params'
import { loadMarket } from '../../db/queries/market'
import { engineInput, type AgentFacts } from '../../engine/agent-input'
import { decide } from '../../engine/decide'
import type { ParamsVersion } from '../../engine/params'
import { versionWithRiskWeights, type RiskWeightOverrides } from '../../engine/risk-weights'
import { riskWeightsOf } from '../../db/queries/risk-weights'
import { inputsSummary, suggestionOnly, type Action, type AgentRun, type RunMode } from '../../engine/run'
import type { Decision, Market } from '../../engine/types'
import { pricedTypes, workloadOf } from '../../engine/workload'
import { markApplied, storeDecision } from './decisions'

/** The agents the engine runs for: enabled, not deleted, with an instance. */
export const ENGINE_AGENTS = and(
  eq(agents.enabled, true),
  ne(agents.status, 'deleted'),
  isNull(agents.deletedAt),
  isNotNull(agents.instanceId),
)

/** The parameter versions an engine run decides with (plain data, loaded once per run). */
export interface RunParams {
  active: ParamsVersion
  shadow: ParamsVersion | null
}

/** Shared across the agents of one run: parameter versions and markets by client, type and region. */
export interface RunContext extends RunParams {
  markets: Map<string, Promise<Market>>
}

/** The parameter versions in effect (the cron loads them once for every client). */
export async function loadRunParams(db: Database): Promise<RunParams> {
  const [active, shadow] = await Promise.all([activeParams(db), shadowParams(db)])
  return { active, shadow }
}

/** The versions as one client's run uses them: its own risk weights in each (same version numbers). */
export function forClient(params: RunParams, weights: RiskWeightOverrides): RunParams {
  return {
    active: versionWithRiskWeights(params.active, weights),
    shadow: params.shadow && versionWithRiskWeights(params.shadow, weights),
  }
}

export function contextOf(params: RunParams): RunContext {
  return { active: params.active, shadow: params.shadow, markets: new Map() }
}

export async function runContext(db: Database): Promise<RunContext> {
  return contextOf(await loadRunParams(db))
}

/** What a run decided for one agent, before anything is stored: the live decision and the shadow one. */
export interface Decided {
  decision: Decision
  inputs: ReturnType<typeof inputsSummary>
  shadow: { decision: Decision; inputs: ReturnType<typeof inputsSummary> } | null
}

/**
 * The engine's decisions for one agent from what was read of it and its market (pure: the per-agent
 * run and the per-client cron run decide through this one function); null when the placement or the
 * on-demand price is unknown.
 */
export function decideFor(
  agent: Agent,
  facts: AgentFacts,
  market: Market,
  params: RunParams,
  now: number,
): Decided | null {
  const workload = workloadOf(agent, market.instanceType)
  const input = engineInput(agent, facts, market, params.active.params, now, workload)
  if (!input) return null
  const decision = decide(input, params.active.params)
  const inputs = inputsSummary(input, params.active)
  if (!params.shadow) return { decision, inputs, shadow: null }
  const shadowInput = engineInput(agent, facts, market, params.shadow.params, now, workload)!
  return {
    decision,
    inputs,
    shadow: {
      decision: decide(shadowInput, params.shadow.params),
      inputs: inputsSummary(shadowInput, params.shadow),
    },
  }
}

/** Where an agent's market is: its instance's type and region, and the other types its workload is priced on. */
export interface MarketPlace {
  instanceType: string
  region: string
  otherTypes: string[]
}

/** The market place of an agent whose instance runs `instanceType` in `region`. */
export function marketPlaceOf(agent: Agent, instanceType: string, region: string): MarketPlace {
  const otherTypes = pricedTypes(workloadOf(agent, instanceType), instanceType).slice(1)
  return { instanceType, region, otherTypes }
}

/** The market key of a place: each client sees its own prices (db/queries/quotes.ts). */
export function marketKey(clientId: string, at: MarketPlace): string {
  return `${clientId}|${at.instanceType}|${at.region}|${at.otherTypes.join(',')}`
}

/** Reads the market of a place (db/queries/market.ts). */
export function readMarket(db: Database, clientId: string, at: MarketPlace, now: number): Promise<Market> {
  return loadMarket(db, clientId, at.instanceType, at.region, now, at.otherTypes)
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
  const none = { agentId: agent.id, decision: null, decisionId: null, action: { kind: 'none' as const } }
  const [facts, weights] = await Promise.all([
    loadAgentFacts(db, agent, now),
    riskWeightsOf(db, agent.clientId),
  ])
  const instance = facts.instance
  if (!instance?.instanceType || !instance.region) return none
  const at = marketPlaceOf(agent, instance.instanceType, instance.region)
  const key = marketKey(agent.clientId, at)
  if (!ctx.markets.has(key)) ctx.markets.set(key, readMarket(db, agent.clientId, at, now))
  const decided = decideFor(agent, facts, await ctx.markets.get(key)!, forClient(ctx, weights), now)
  if (!decided) return none
  if (!mode.store)
    return { agentId: agent.id, decision: decided.decision, decisionId: null, action: { kind: 'none' } }
  const stored = await storeDecision(
    db,
    agent,
    { version: ctx.active.version, shadow: false, decision: decided.decision, inputs: decided.inputs },
    now,
  )
  if (ctx.shadow && decided.shadow)
    await storeDecision(db, agent, { version: ctx.shadow.version, shadow: true, ...decided.shadow }, now)
  const run = { agentId: agent.id, decision: decided.decision, decisionId: stored.id }
  return { ...run, action: await actOn(env, db, agent, instance, run, { act: mode.act, now }) }
}

/**
 * What a stored decision leads to: nothing (stay), a suggestion (auto-switch not allowed, or not asked
 * to act), or a switch queued in the agent's Durable Object (deduped there: one pending per instance).
 */
export async function actOn(
  env: Env,
  db: Database,
  agent: Agent,
  instance: Instance,
  run: { decision: Decision; decisionId: string },
  how: { act: boolean; now: number },
): Promise<Action> {
  const { decision } = run
  if (decision.decision === 'stay' || !decision.target) return { kind: 'none' }
  const why = suggestionOnly(agent)
  if (why || !how.act) return { kind: 'suggestion', why: why ?? 'decided on request' }
  const target =
    decision.target.mode === 'spot' && decision.target.poolId
      ? { mode: 'spot' as const, poolId: decision.target.poolId }
      : { mode: 'ondemand' as const, poolId: null }
  const result = await queueSwitch(env, agent, instance, target, {
    priority: decision.urgent ? PRIORITY.engineUrgent : PRIORITY.engine,
    source: 'engine',
  })
  if (result.ok) {
    await markApplied(db, run.decisionId, result.commandId, how.now)
    return { kind: 'command', commandId: result.commandId }
  }
  if (result.reason === 'duplicate') return { kind: 'duplicate', commandId: result.commandId }
  return { kind: 'suggestion', why: result.message }
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
