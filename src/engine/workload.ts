/**
 * The workload of an agent as the type rule sees it (compatibility.ts), from its `agents` row and the
 * type it runs on now: the engine's input and the instance page's options are built alike.
 */
import { isLegacyAgent } from '../protocol'
import type { Workload } from './compatibility'

/** What an `agents` row says of its workload's types. */
export interface WorkloadSettings {
  /** The type it first registered on; null: not recorded (the current type stands in). */
  baseInstanceType: string | null
  /** The person's allow-list; null: the default rule. */
  allowedInstanceTypes: readonly string[] | null
  agentVersion: string | null
}

/**
 * The workload of an agent running `currentType`. A legacy agent (< 5) launches only its own type, so
 * its workload allows that type alone whatever its settings say.
 */
export function workloadOf(agent: WorkloadSettings, currentType: string): Workload {
  if (isLegacyAgent(agent.agentVersion)) return { baseType: currentType, allowedTypes: [currentType] }
  return {
    baseType: agent.baseInstanceType ?? currentType,
    allowedTypes: agent.allowedInstanceTypes,
  }
}
