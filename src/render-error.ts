import type { Context } from 'hono'
import type { AppEnv } from './env'
import { ApiError } from './errors'
import { log } from './log'

/**
 * The app's single error funnel: known errors keep their status, anything else is a logged 500. Apart
 * from errors.ts so that ApiError, imported by every layer, imports nothing of ours.
 */
export function renderError(err: Error, c: Context<AppEnv>): Response {
  const requestId = c.get('requestId')
  if (err instanceof ApiError) {
    return c.json({ error: err.message, code: err.code, request_id: requestId, ...err.details }, err.status)
  }
  log.error({ request_id: requestId, message: err.message, stack: err.stack })
  return c.json({ error: 'internal error', code: 'INTERNAL', request_id: requestId }, 500)
}
