/** The per-agent Durable Object: live command queue, push socket, liveness and timers. */
import { DurableObject } from 'cloudflare:workers'
import type { Env } from '../env'

export class AgentSession extends DurableObject<Env> {}
