/** A page's query string, validated as the API validates it: a bad one is a 400 page naming its fields. */
import type { Context } from 'hono'
import type * as z from 'zod'
import { validationError } from '../../errors'

export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const result = schema.safeParse(c.req.query())
  if (result.success) return result.data
  throw validationError(result.error.issues, 'query')
}
