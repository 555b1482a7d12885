/**
 * The effective agent config of `GET config` and `register`: the agent's own settings, with the
 * thresholds it left NULL inherited from the engine's parameters.
 */
import type { Database } from '../client'
import { activeParams } from './engine-params'
import type { Agent } from '../schema'
import { isLegacyAgent, type AgentConfig } from '../../protocol'

/** Engine thresholds an agent inherits where it has no setting of its own. */
export interface EngineThresholds {
  minSavingsPercent: number
  riskThreshold: number
  maxSwitchesPerWeek: number
  maxSwitchesPerDay: number
  minPoolDurationHours: number
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
    // 5.x agents only: the installed ones get exactly the config they were built for.
    ...(isLegacyAgent(agent.agentVersion)
      ? {}
      : {
          backup_image_hours: agent.backupImageHours,
          stateful: agent.stateful,
          rpo_minutes: agent.rpoMinutes,
          drain_unit: agent.drainUnit,
          hook_timeout_seconds: agent.hookTimeoutSeconds,
          drain_target_groups: agent.drainTargetGroups,
        }),
  }
}

/** The config served to an agent: its settings over the active engine parameter version's thresholds. */
export async function configFor(db: Database, agent: Agent): Promise<AgentConfig> {
  const { params } = await activeParams(db)
  return effectiveConfig(agent, {
    minSavingsPercent: params.min_savings_percent,
    riskThreshold: params.risk_threshold,
    maxSwitchesPerWeek: params.max_switches_per_week,
    maxSwitchesPerDay: params.max_switches_per_day,
    minPoolDurationHours: params.min_pool_duration_hours,
  })
}
