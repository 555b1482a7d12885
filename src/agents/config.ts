/**
 * The effective agent config of `GET config` and `register`: the agent's own settings, with the
 * thresholds it left NULL inherited from the engine's parameters.
 */
import type { Database } from '../db/client'
import type { Agent } from '../db/schema'
import type { AgentConfig } from '../protocol'

/** Engine thresholds an agent inherits where it has no setting of its own. */
export interface EngineThresholds {
  minSavingsPercent: number
  riskThreshold: number
  maxSwitchesPerWeek: number
  maxSwitchesPerDay: number
  minPoolDurationHours: number
}

/** Defaults of agent-api.md, used until an engine parameter version is active. */
export const ENGINE_DEFAULTS: EngineThresholds = {
  minSavingsPercent: 15,
  riskThreshold: 0.3,
  maxSwitchesPerWeek: 10,
  maxSwitchesPerDay: 3,
  minPoolDurationHours: 2,
}

/** The config an agent gets: its settings over the given thresholds. */
export function effectiveConfig(agent: Agent, defaults: EngineThresholds): AgentConfig {
  return {
    enabled: agent.enabled && agent.status !== 'deleted',
    auto_switch_enabled: agent.autoSwitchEnabled,
    auto_terminate_enabled: agent.autoTerminateEnabled,
    terminate_wait_seconds: agent.terminateWaitSeconds,
    manual_replica_enabled: agent.manualReplicaEnabled,
    // The installed agents read `replica_enabled` for the standby replica: the same switch.
    replica_enabled: agent.manualReplicaEnabled,
    replica_count: agent.replicaCount,
    min_savings_percent: agent.minSavingsPercent ?? defaults.minSavingsPercent,
    risk_threshold: agent.riskThreshold ?? defaults.riskThreshold,
    max_switches_per_week: agent.maxSwitchesPerWeek ?? defaults.maxSwitchesPerWeek,
    max_switches_per_day: agent.maxSwitchesPerDay ?? defaults.maxSwitchesPerDay,
    min_pool_duration_hours: agent.minPoolDurationHours ?? defaults.minPoolDurationHours,
  }
}

/**
 * The config served to an agent. The one place the active engine parameter version plugs in
 * (until it exists, the defaults above).
 */
export async function configFor(_db: Database, agent: Agent): Promise<AgentConfig> {
  return effectiveConfig(agent, ENGINE_DEFAULTS)
}
