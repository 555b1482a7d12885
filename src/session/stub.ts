/**
 * How the rest of the Worker reaches an agent's Durable Object: the RPC interface that types the
 * binding, and `sessionOf`. The class (agent-session.ts) implements the interface, so env.ts and every
 * caller depend on this file only, never on the class and what it imports (the engine, flows, D1).
 */
import type { Command } from '../protocol'
import { meteredStub } from './request-meter'
import type {
  AgentLiveness,
  AgentRef,
  ClaimInput,
  EnqueueResult,
  HeartbeatResult,
  HttpHeartbeat,
  MoveResult,
  NewCommand,
  PollInput,
  ProgressInput,
  Registration,
  ResultInput,
} from './types'

/** The per-agent Durable Object's RPC API (documented on the class, session/agent-session.ts). */
export interface AgentSessionRpc extends Rpc.DurableObjectBranded {
  enqueue(input: NewCommand): Promise<EnqueueResult>
  registered(registration: Registration): Promise<void>
  heartbeat(input: HttpHeartbeat): Promise<HeartbeatResult>
  liveness(ref: AgentRef): Promise<AgentLiveness | null>
  pendingCommands(input: PollInput): Promise<Command[] | null>
  ack(input: ClaimInput): Promise<MoveResult>
  running(input: ProgressInput): Promise<MoveResult>
  executed(input: ResultInput): Promise<MoveResult>
  retire(ref: AgentRef): Promise<void>
  uninstallFor(registration: Registration): Promise<string | null>
  reinstate(ref: AgentRef): Promise<void>
  forgetTokens(options: { endSockets: boolean }): Promise<void>
  configChanged(): Promise<number>
  /** Accepts the agent's push socket only (the stream route). */
  fetch(request: Request): Promise<Response>
}

/** The binding of the per-agent Durable Objects (env.AGENT_SESSION). */
export type AgentSessionNamespace = DurableObjectNamespace<AgentSessionRpc>

/** The Durable Object of an agent (its calls counted when the benchmark's meter is on). */
export function sessionOf(env: { AGENT_SESSION: AgentSessionNamespace; D1_METER?: string }, agentId: string) {
  const stub = env.AGENT_SESSION.get(env.AGENT_SESSION.idFromName(agentId))
  return env.D1_METER === 'on' ? meteredStub(stub) : stub
}
