/** What the rest of the Worker hands to an agent's Durable Object (its RPC arguments and results). */
import type { Command, CommandStatus, CommandType, Mode } from '../protocol'
import type { ProvenToken } from './credentials'

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
  /**
   * Type-specific fields of the wire command (replica_id, replica_instance_id, target_instance_id, reason;
   * register_targets' target_groups, a list).
   */
  payload?: Record<string, string | number | boolean | null | Array<Record<string, string | number>>>
  source: 'manual' | 'engine' | 'emergency' | 'system'
  /** While a pending command has this key, another with the same key is refused as a duplicate. */
  dedupeKey?: string
  /** Unclaimed after this many seconds the command expires (default per type: 30 min for a switch). */
  expiresInSeconds?: number
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

/** Which agent a call is about; routes have checked in D1 that the client owns it. */
export interface AgentRef {
  clientId: string
  agentId: string
}

/** What a heartbeat says; null facts keep the old value. */
export interface HeartbeatFacts {
  status: 'online' | 'disabled' | 'offline'
  instanceId: string | null
  instanceType: string | null
  mode: 'spot' | 'ondemand' | 'unknown' | null
  az: string | null
}

/** A heartbeat of an agent its caller authenticated (the socket's). */
export interface HeartbeatInput extends AgentRef, HeartbeatFacts {}

/**
 * An HTTP heartbeat, authenticated by the object: its bearer token's hash must be one the object
 * trusts (session/credentials.ts); `proof` is the route's proof in D1 of a token it did not, read
 * after the object answered `epoch`.
 */
export interface HttpHeartbeat extends HeartbeatFacts {
  agentId: string
  /** Hex SHA-256 of the bearer token. */
  tokenHash: string
  proof?: { token: ProvenToken; epoch: string }
}

/** An agent's liveness as its object knows it now (`liveness` RPC); overlays D1's periodic copy. */
export interface AgentLiveness {
  status: 'online' | 'disabled' | 'offline'
  /** Server receive time of the last heartbeat or registration, epoch ms. */
  lastSeenAt: number
}

/** A `pending-commands` poll; `instanceId` null: a legacy poller (one command, handed out once). */
export interface PollInput extends AgentRef {
  agentVersion: string | null
  instanceId: string | null
}

/** The new agent claims a command from one of its instances. */
export interface ClaimInput extends AgentRef {
  commandId: string
  instanceId: string
}

/** The claimer runs the command: started, or a step done (`step`, e.g. `imageId=ami-…`), renewing its lease. */
export interface ProgressInput extends ClaimInput {
  step: string | null
}

/** The result of a command; `instanceId` null when the reporter can't say (legacy `executed`). */
export interface ResultInput extends AgentRef {
  commandId: string
  success: boolean
  message: string | null
  instanceId: string | null
}

/** Outcome of a state move asked for by an agent (a repeat is ok with `changed: false`). */
export type MoveResult =
  | { ok: true; status: CommandStatus; changed: boolean }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'conflict'; status: CommandStatus; message: string }

/**
 * `not_found`: another client's or a retired agent (routes answer like an unknown agent);
 * `unknown_token`: the object trusts no such token (yet): prove it in D1 and call again with a proof
 * of this `epoch`; `wrong_instance`: an agent token names another instance than its own.
 */
export type HeartbeatResult =
  | { ok: true }
  | { ok: false; reason: 'not_found' | 'wrong_instance' }
  | { ok: false; reason: 'unknown_token'; epoch: string }

/** One command of the queue. Times are epoch ms. */
export interface QueuedCommand {
  id: string
  commandType: CommandType
  instanceId: string | null
  priority: number
  createdAt: number
  /** Unclaimed after this time: expired, never run. */
  expiresAt: number
  status: CommandStatus
  dedupeKey: string | null
  source: NewCommand['source']
  /** What agents receive (pending-commands item, socket push). */
  wire: Command
  payload: NewCommand['payload'] | null
  /** The instance that acked it, or LEGACY_CLAIM. */
  claimedBy: string | null
  /** The instance the agent ran on when it claimed: registering from another one completes a switch. */
  claimedOn: string | null
  /** Claimed and no result by this time: failed. */
  leaseUntil: number | null
  deliveredAt: number | null
  ackedAt: number | null
  startedAt: number | null
  finishedAt: number | null
  message: string | null
  updatedAt: number
}
