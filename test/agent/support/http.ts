/** A recording stand-in for the control plane's HTTP API (the Link's only dependency on the network). */
import type { Http, Reply } from '../../../agent/src/link/http'

export interface Call {
  seq: number
  method: string
  path: string
  body: unknown
  /** The agent token sent instead of the client token (undefined: the client token). */
  bearer?: string
}

/** `serverTime`: the answer carries the control plane's time (epoch ms), as its X-Server-Time header does. */
type Responder = (call: Call) => { status: number; body?: unknown; serverTime?: number } | undefined

/** Answers 200 `{success:true}` unless a responder decides otherwise; records every call in order. */
export function recordingHttp(
  responders: Responder[] = [],
): Http & { calls: Call[]; on(r: Responder): void; seqOf(path: RegExp): number } {
  const calls: Call[] = []
  const rules = [...responders]
  return {
    calls,
    on(r) {
      rules.unshift(r)
    },
    seqOf(path) {
      return calls.find((c) => path.test(c.path))?.seq ?? -1
    },
    async request<T>(
      method: string,
      path: string,
      body?: unknown,
      schema?: { safeParse(v: unknown): { success: boolean; data?: T } },
      bearer?: string,
    ): Promise<Reply<T>> {
      const call = { seq: calls.length, method, path, body, ...(bearer === undefined ? {} : { bearer }) }
      calls.push(call)
      let answer: { status: number; body?: unknown; serverTime?: number } = {
        status: 200,
        body: { success: true },
      }
      for (const r of rules) {
        const a = r(call)
        if (a) {
          answer = a
          break
        }
      }
      if (answer.status === 0) return { ok: false, status: 0, error: 'connection refused', body: null }
      const time = answer.serverTime === undefined ? {} : { serverTime: answer.serverTime }
      if (answer.status >= 300)
        return {
          ok: false,
          status: answer.status,
          error: `HTTP ${answer.status}`,
          body: answer.body,
          ...time,
        }
      if (!schema) return { ok: true, status: answer.status, body: answer.body as T, ...time }
      const parsed = schema.safeParse(answer.body)
      return parsed.success
        ? { ok: true, status: answer.status, body: parsed.data as T, ...time }
        : { ok: false, status: answer.status, error: 'unexpected answer', body: answer.body, ...time }
    },
  }
}
