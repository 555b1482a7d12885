/** One error shape for HTTP: `{ error, code, request_id, ...details }` with the status of its code. */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AppEnv } from './env'

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

/** The app's single error funnel: known errors keep their status, anything else is a logged 500. */
export function renderError(err: Error, c: Context<AppEnv>): Response {
  const requestId = c.get('requestId')
  if (err instanceof ApiError) {
    return c.json({ error: err.message, code: err.code, request_id: requestId, ...err.details }, err.status)
  }
  console.error(JSON.stringify({ level: 'error', request_id: requestId, message: err.message, stack: err.stack }))
  return c.json({ error: 'internal error', code: 'INTERNAL', request_id: requestId }, 500)
}
