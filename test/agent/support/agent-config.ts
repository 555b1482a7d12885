/** The control plane's config of an agent, as GET config answers it. */
import type { AgentConfig } from '../../../src/protocol'

/** Defaults with the given backup period (undefined: an older control plane's config, without one). */
export function configWith(backupImageHours: number | undefined): AgentConfig {
  return {
    enabled: true,
    auto_switch_enabled: true,
    auto_terminate_enabled: true,
    terminate_wait_seconds: 0,
    manual_replica_enabled: false,
    replica_enabled: false,
    replica_count: 1,
    min_savings_percent: 10,
    risk_threshold: 0.5,
    max_switches_per_week: 10,
    max_switches_per_day: 3,
    min_pool_duration_hours: 2,
    ...(backupImageHours === undefined ? {} : { backup_image_hours: backupImageHours }),
  }
}
