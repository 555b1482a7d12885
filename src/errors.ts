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

/** VALIDATION with one `{ field, message }` per zod issue; `where` names the input when a path is empty. */
export function validationError(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  where: string,
): ApiError {
  const fields = issues.map((i) => ({ field: i.path.map(String).join('.') || where, message: i.message }))
  return new ApiError('VALIDATION', `invalid ${where}: ${fields.map((f) => f.field).join(', ')}`, { fields })
}
