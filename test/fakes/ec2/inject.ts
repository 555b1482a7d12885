/** Failures injected into the fake EC2: queued (`failNext`), conditional (`failWhen`) and persistent (`deny`). */
import type { Params } from './query'

/** A failure to inject: an error code, or a code with its message. */
export type InjectedFailure = string | { code: string; message?: string }

export interface Injector {
  /** The failure this call must answer with, consuming a queued one; undefined to let it run */
  failureFor(action: string, params: Params): { code: string; message?: string } | undefined
  /** Whether `deny` refuses the action (what a DryRun call answers with) */
  isDenied(action: string): boolean
  failNext(action: string, code: string, opts?: { message?: string; times?: number }): void
  failWhen(action: string, decide: (params: Params) => InjectedFailure | undefined): () => void
  deny(action: string): void
  allow(action: string): void
}

export function createInjector(): Injector {
  const queued: Array<{ action: string; failure: { code: string; message?: string }; times: number }> = []
  const rules = new Set<{ action: string; decide: (params: Params) => InjectedFailure | undefined }>()
  const denied = new Set<string>()
  const applies = (rule: string, action: string) => rule === action || rule === '*'
  const isDenied = (action: string) => denied.has(action) || denied.has('*')

  return {
    isDenied,
    failureFor: (action, params) => {
      if (isDenied(action)) return { code: 'UnauthorizedOperation' }
      const next = queued.find((q) => applies(q.action, action))
      if (next) {
        if (--next.times <= 0) queued.splice(queued.indexOf(next), 1)
        return next.failure
      }
      for (const rule of rules) {
        if (!applies(rule.action, action)) continue
        const outcome = rule.decide(params)
        if (outcome !== undefined) return typeof outcome === 'string' ? { code: outcome } : outcome
      }
      return undefined
    },
    failNext: (action, code, opts = {}) =>
      queued.push({ action, failure: { code, message: opts.message }, times: opts.times ?? 1 }),
    failWhen: (action, decide) => {
      const rule = { action, decide }
      rules.add(rule)
      return () => rules.delete(rule)
    },
    deny: (action) => denied.add(action),
    allow: (action) => denied.delete(action),
  }
}
