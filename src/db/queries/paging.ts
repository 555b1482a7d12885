/** Server-side pagination and search parameters shared by every list. */
import * as z from 'zod'

export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  search: z.string().trim().max(200).optional(),
})
export type PageQuery = z.infer<typeof PageQuery>

export interface PageOf<T> {
  items: T[]
  total: number
  page: number
  limit: number
}

/** SQL offset of a page. */
export function offsetOf(q: { page: number; limit: number }): number {
  return (q.page - 1) * q.limit
}

/** A LIKE pattern that matches the search text literally (escape char `\\`). */
export function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`
}
