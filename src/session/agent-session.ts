/** The per-agent Durable Object: live command queue, push socket, liveness and timers. */
import { DurableObject } from 'cloudflare:workers'
import type { Env } from '../env'
import type { EnqueueResult, NewCommand, Registration } from './types'

export class AgentSession extends DurableObject<Env> {
  /** Queues a command (pushed at once to a connected agent). */
  async enqueue(_command: NewCommand): Promise<EnqueueResult> {
    return { ok: false, reason: 'unsupported', message: 'not implemented yet' }
  }

  /** The agent registered (again), possibly from a new instance. */
  async registered(_registration: Registration): Promise<void> {}
}

/** The Durable Object of an agent. */
export function sessionOf(env: Env, agentId: string) {
  return env.AGENT_SESSION.get(env.AGENT_SESSION.idFromName(agentId))
}
