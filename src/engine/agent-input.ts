/**
 * The engine's input for one agent: its placement, recent switches and pending commands
 * (db/queries/agent-facts.ts reads them), plus the market.
 */
import type { Workload } from './compatibility'
import { effectiveThresholds, type EngineParams } from './params'
import type { EngineInput, Market } from './types'

/** The agent's settings the engine decides with (an `agents` row has them). */
export interface EngineAgent {
  enabled: boolean
  status: string
  minSavingsPercent: number | null
  riskThreshold: number | null
  maxSwitchesPerDay: number | null
  maxSwitchesPerWeek: number | null
  minPoolDurationHours: number | null
  /** Its data volumes follow it only within their AZ (docs/agent.md): it is placed in its current AZ. */
  stateful: boolean
}

/** The agent's current instance as the engine reads it (an `instances` row has it). */
export interface EngineInstance {
  mode: 'spot' | 'ondemand' | 'unknown'
  poolId: string | null
  /** Its AZ; null: not reported yet. */
  az: string | null
  createdAt: number
}

/** Switches forced by an interruption are emergencies: not counted against the caps. */
export const UNCOUNTED_TRIGGERS = ['interruption'] as const

/** What the engine needs of an agent besides the market. */
export interface AgentFacts<I extends EngineInstance = EngineInstance> {
  instance: I | null
  switchTimes: number[]
  /** When the workload left spot for on-demand within the week (EngineInput.spotExits). */
  spotExits: number[]
  since: number
  imposed: boolean
  commandInFlight: boolean
}

/**
 * The engine input, or null when the agent's placement or the on-demand price is unknown. With a
 * `workload`, pools of other types in the market are candidates where the type rule allows them.
 */
export function engineInput(
  agent: EngineAgent,
  facts: AgentFacts,
  market: Market,
  params: EngineParams,
  now: number,
  workload?: Workload,
): EngineInput | null {
  const instance = facts.instance
  if (!instance || instance.mode === 'unknown' || market.onDemandPrice === null) return null
  return {
    now,
    agent: {
      enabled: agent.enabled && agent.status !== 'disabled',
      online: agent.status === 'online',
      commandInFlight: facts.commandInFlight,
    },
    current: {
      mode: instance.mode,
      poolId: instance.mode === 'spot' ? instance.poolId : null,
      since: facts.since,
      imposed: facts.imposed,
    },
    onDemandPrice: market.onDemandPrice,
    pools: market.pools,
    ...(workload && { workload }),
    ...(agent.stateful && instance.az !== null && { statefulAz: instance.az }),
    switchTimes: facts.switchTimes,
    spotExits: facts.spotExits,
    thresholds: effectiveThresholds(params, {
      min_savings_percent: agent.minSavingsPercent,
      risk_threshold: agent.riskThreshold,
      max_switches_per_day: agent.maxSwitchesPerDay,
      max_switches_per_week: agent.maxSwitchesPerWeek,
      min_pool_duration_hours: agent.minPoolDurationHours,
    }),
  }
}
