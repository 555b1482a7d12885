/**
 * The engine run's pure parts: what a run did (Action), what a stored decision saw (inputsSummary) and
 * when an allowed move stays a suggestion. flows/engine-tick/run.ts reads, stores and acts around them.
 */
import { isLegacyAgent } from '../protocol'
import { DAY_MS, switchesWithin, WEEK_MS } from './guardrails'
import { skipReason } from './decide'
import type { ParamsVersion } from './params'
import { meanLifetimeHours, poolRisk } from './risk'
import type { Decision, EngineInput } from './types'

export type Action =
  | { kind: 'none' }
  | { kind: 'command'; commandId: string }
  | { kind: 'duplicate'; commandId: string }
  | { kind: 'suggestion'; why: string }

export interface AgentRun {
  agentId: string
  decision: Decision | null
  decisionId: string | null
  action: Action
}

/** A pool's mean lifetime as stored: hours (0.1), `"inf"` when none died, null without data (JSON has no Infinity). */
const lifetimeSummary = (h: number | null) =>
  h === null ? null : Number.isFinite(h) ? Math.round(h * 10) / 10 : 'inf'

/**
 * What a decision saw, stored beside it: per pool its price and risk, and why the engine left it out of
 * its candidates (`skipped`, null when weighed): what the instance page's options read.
 */
export function inputsSummary(input: EngineInput, version: ParamsVersion) {
  return {
    current: input.current,
    on_demand: input.onDemandPrice,
    pools: input.pools.map((p) => {
      const risk = poolRisk(p, p.onDemandPrice ?? input.onDemandPrice, version.params)
      return {
        pool_id: p.poolId,
        instance_type: p.instanceType ?? null,
        az: p.az,
        price: p.price,
        mean_24h: p.mean24h === undefined ? null : Math.round(p.mean24h * 1e6) / 1e6,
        risk: Math.round(risk * 1000) / 1000,
        skipped: skipReason(p, risk, input, version.params),
        mean_lifetime_h: lifetimeSummary(meanLifetimeHours(p)),
        age_s: Math.round((input.now - p.seenAt) / 1000),
        // Capacity evidence only where there is some (capacity.ts).
        ...(p.placementScore && {
          placement_score: p.placementScore.score,
          placement_score_age_h: Math.round(p.placementScore.ageHours * 10) / 10,
        }),
        ...(p.capacityErrors24h ? { capacity_errors_24h: p.capacityErrors24h } : {}),
      }
    }),
    switches_24h: switchesWithin(input.switchTimes, input.now, DAY_MS),
    switches_7d: switchesWithin(input.switchTimes, input.now, WEEK_MS),
    spot_exits_7d: switchesWithin(input.spotExits ?? [], input.now, WEEK_MS),
    thresholds: input.thresholds,
  }
}

/** The agent's settings that allow an automatic switch (an `agents` row has them). */
export interface AutoSwitchSettings {
  autoSwitchEnabled: boolean
  manualReplicaEnabled: boolean
  agentVersion: string | null
  legacyAutoSwitchOptIn: boolean
}

/** Why an allowed move is not turned into a command, or null when it may be. */
export function suggestionOnly(agent: AutoSwitchSettings): string | null {
  if (!agent.autoSwitchEnabled) return 'auto-switch is off'
  if (agent.manualReplicaEnabled) return 'manual replica mode is on'
  if (isLegacyAgent(agent.agentVersion) && !agent.legacyAutoSwitchOptIn) {
    return 'legacy agent: automatic switches need the client opt-in (its switch loses disk data)'
  }
  return null
}

/** How a run ends: `store` the decision (and a shadow one), `act` on it (queue the switch it allows). */
export interface RunMode {
  store: boolean
  act: boolean
}
