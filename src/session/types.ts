/** What the rest of the Worker hands to an agent's Durable Object (its RPC arguments and results). */
import type { CommandType, Mode } from '../protocol'

export interface NewCommand {
  clientId: string
  agentId: string
  /** The agent's reported version: legacy agents get only the types they know. */
  agentVersion: string | null
  /** The EC2 instance the command is for (null: any instance of the agent). */
  instanceId: string | null
  commandType: CommandType
  targetMode?: Mode
  targetPoolId?: string | null
  priority: number
  terminateWaitSeconds?: number | null
  /** Type-specific fields of the wire command (replica_id, replica_instance_id, target_instance_id, reason). */
  payload?: Record<string, string | number | boolean | null>
  source: 'manual' | 'engine' | 'emergency' | 'system'
  /** While a pending command has this key, another with the same key is refused as a duplicate. */
  dedupeKey?: string
}

export type EnqueueResult =
  | { ok: true; commandId: string }
  | { ok: false; reason: 'duplicate'; commandId: string }
  | { ok: false; reason: 'unsupported'; message: string }

/** Facts of a (re-)registration, so the object can complete a legacy switch and track liveness. */
export interface Registration {
  clientId: string
  agentId: string
  instanceId: string
  agentVersion: string | null
}
