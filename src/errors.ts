/** One error shape for HTTP: `{ error, code, request_id, ...details }` with the status of its code. */
import type { ContentfulStatusCode } from 'hono/utils/http-status'

const STATUS = {
  BAD_REQUEST: 400,
  VALIDATION: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const satisfies Record<string, ContentfulStatusCode>

export type ErrorCode = keyof typeof STATUS

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message)
  }

  get status(): ContentfulStatusCode {
    return STATUS[this.code]
  }
}

/**
 * A flow's expected "no" (a conflict, a state that forbids it, a missing row): returned, never thrown,
 * so callers other than HTTP (the Durable Object, cron) decide what it means to them.
 */
export interface Refusal {
  readonly ok: false
  readonly code: ErrorCode
  readonly message: string
  readonly details?: Record<string, unknown>
}

/** A flow's success, or its refusal thrown as the HTTP error of its code (status, message, extra fields). */
export function orThrow<T extends { readonly ok: true }>(result: T | Refusal): T {
  if (isRefusal(result)) throw new ApiError(result.code, result.message, result.details)
  return result
}

function isRefusal(result: { readonly ok: boolean }): result is Refusal {
  return !result.ok
}

/** The row a read found, or the 404 of `message` (an absent row and another tenant's are answered alike). */
export function found<T>(row: T | null | undefined, message: string): T {
  if (row === null || row === undefined) throw new ApiError('NOT_FOUND', message)
  return row
}

/** VALIDATION with one `{ field, message }` per zod issue; `where` names the input when a path is empty. */
export function validationError(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  where: string,
): ApiError {
  const fields = issues.map((i) => ({ field: i.path.map(String).join('.') || where, message: i.message }))
  return new ApiError('VALIDATION', `invalid ${where}: ${fields.map((f) => f.field).join(', ')}`, { fields })
}
