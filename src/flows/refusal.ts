/** How a flow says no: a result with the error code HTTP adapters answer it with (errors.ts `orThrow`). */
import type { ErrorCode, Refusal } from '../errors'

export type { Refusal }

export function refuse(code: ErrorCode, message: string, details?: Record<string, unknown>): Refusal {
  return details ? { ok: false, code, message, details } : { ok: false, code, message }
}
