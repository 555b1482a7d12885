/** HTTP calls to the control plane (agent-api.md), each answering a Reply instead of throwing. */
import * as z from 'zod'
import { AgentConfig, Command, SERVER_TIME_HEADER } from '../../../src/protocol'
import type { Log } from '../log'
import { send, type HttpAnswer } from '../net/request'

const TIMEOUT_MS = 15_000

/** An answer; `serverTime` (epoch ms) when it carried the control plane's time (SERVER_TIME_HEADER). */
export type Reply<T> = (
  { ok: true; status: number; body: T } | { ok: false; status: number; error: string; body: unknown }
) & { serverTime?: number }

export const Registered = z.object({
  agent_id: z.string(),
  client_id: z.string().optional(),
  /** A new agent token for this instance (a verified registration's first); a secret, never logged. */
  agent_token: z.string().min(1).max(512).optional(),
  /** `verified`: the control plane takes only this instance's agent token on the per-agent routes. */
  identity: z.enum(['verified', 'unverified']).optional(),
  config: AgentConfig.optional(),
})
export type Registered = z.infer<typeof Registered>

export const ReplicaItem = z.object({
  id: z.string(),
  instance_id: z.string().nullish(),
  status: z.string(),
  pool_id: z.string().nullish(),
  az: z.string().nullish(),
  type: z.string().nullish(),
  mode: z.enum(['spot', 'ondemand']).nullish(),
  pool: z.object({ instance_type: z.string().nullish(), az: z.string().nullish() }).passthrough().nullish(),
})
export type ReplicaItem = z.infer<typeof ReplicaItem>

export const EmergencyReplica = z.object({
  replica_id: z.string(),
  instance_id: z.string().nullish(),
  mode: z.enum(['spot', 'ondemand']).nullish(),
  pool: z.object({ id: z.string(), az: z.string().nullish() }).passthrough().nullish(),
})

export const TerminationAnswer = z
  .object({
    success: z.boolean().optional(),
    action: z.string().optional(),
    new_instance_id: z.string().nullish(),
  })
  .passthrough()

export interface Http {
  /** `bearer`: the token to send instead of the client token (the agent token of a verified agent). */
  request<T>(
    method: string,
    path: string,
    body?: unknown,
    schema?: z.ZodType<T>,
    bearer?: string,
  ): Promise<Reply<T>>
}

/** A bearer-authenticated JSON client rooted at the control plane's origin; `token` is the client token. */
export function createHttp(serverUrl: string, token: string, log: Log): Http {
  return {
    async request<T>(
      method: string,
      path: string,
      body?: unknown,
      schema?: z.ZodType<T>,
      bearer?: string,
    ): Promise<Reply<T>> {
      let res: HttpAnswer
      try {
        res = await send(serverUrl + path, {
          method,
          headers: {
            authorization: `Bearer ${bearer ?? token}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          timeoutMs: TIMEOUT_MS,
        })
      } catch (err) {
        return { ok: false, status: 0, error: err instanceof Error ? err.message : String(err), body: null }
      }
      const header = res.headers[SERVER_TIME_HEADER]
      const at = typeof header === 'string' ? Date.parse(header) : Number.NaN
      const time = Number.isFinite(at) ? { serverTime: at } : {}
      const text = res.text
      let json: unknown = null
      try {
        json = text ? JSON.parse(text) : null
      } catch {
        json = null
      }
      if (!res.ok) {
        const error = (json as { error?: unknown } | null)?.error
        return {
          ok: false,
          status: res.status,
          error: typeof error === 'string' ? error : `HTTP ${res.status}`,
          body: json,
          ...time,
        }
      }
      if (!schema) return { ok: true, status: res.status, body: json as T, ...time }
      const parsed = schema.safeParse(json)
      if (!parsed.success) {
        log.warn('control plane answer not understood', { path, issues: parsed.error.issues.slice(0, 3) })
        return { ok: false, status: res.status, error: 'unexpected answer', body: json, ...time }
      }
      return { ok: true, status: res.status, body: parsed.data, ...time }
    },
  }
}

/** Commands of a pending-commands answer (a bare array, or `{commands}`); items not understood are skipped. */
export function parseCommands(body: unknown, log: Log): Command[] {
  const list = Array.isArray(body) ? body : ((body as { commands?: unknown } | null)?.commands ?? [])
  if (!Array.isArray(list)) return []
  return list.flatMap((raw) => {
    const item = { instance_id: null, expires_at: null, command_type: 'switch', ...(raw as object) }
    const parsed = Command.safeParse(item)
    if (parsed.success) return [parsed.data]
    log.warn('command not understood, skipped', {
      id: (raw as { id?: unknown })?.id,
      issues: parsed.error.issues.slice(0, 3),
    })
    return []
  })
}
