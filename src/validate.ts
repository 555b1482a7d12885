/** Parsing request bodies at the edge: 400 for malformed JSON or wrong fields, 413 over 256 KiB. */
import type { Context } from 'hono'
import * as z from 'zod'
import { ApiError } from './errors'

export const MAX_BODY_BYTES = 256 * 1024

/** Reads the body as JSON (an empty body is `{}`) and validates it; throws ApiError on bad input. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text()
  if (new TextEncoder().encode(text).length > MAX_BODY_BYTES) {
    throw new ApiError('PAYLOAD_TOO_LARGE', `body over ${MAX_BODY_BYTES} bytes`)
  }
  let body: unknown = {}
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text)
    } catch {
      throw new ApiError('BAD_REQUEST', 'malformed JSON body')
    }
  }
  return parseWith(schema, body, 'body')
}

/** Validates a query string object. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return parseWith(schema, c.req.query(), 'query')
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const fields = result.error.issues.map((i) => ({ field: i.path.join('.') || where, message: i.message }))
  throw new ApiError('VALIDATION', `invalid ${where}: ${fields.map((f) => f.field).join(', ')}`, { fields })
}
