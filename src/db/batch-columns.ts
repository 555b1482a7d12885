/**
 * The guard every D1 batch passes: no statement may select two output columns of one name. D1's batch
 * answers rows as objects keyed by column name and drizzle maps them back by position, so a second
 * `status` overwrites the first and every later field silently takes its neighbour's value.
 */
import { Column, is, SQL } from 'drizzle-orm'
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core'

/** What drizzle's `_prepare()` exposes of a query: its ordered output fields (none for plain writes). */
interface Prepared {
  fields?: { path: string[]; field: unknown }[]
}

/** Throws, naming the fields, when one statement of a batch has two output columns of one name. */
export function assertDistinctBatchColumns(items: readonly unknown[]): void {
  for (const item of items) {
    const seen = new Map<string, string>()
    for (const { path, field } of preparedOf(item)?.fields ?? []) {
      const name = outputColumnName(field)
      if (name === null) continue
      const key = path.join('.')
      const earlier = seen.get(name)
      if (earlier !== undefined) {
        throw new Error(
          `batched select has two output columns named "${name}" (${earlier}, ${key}): alias one with sql\`...\`.as()`,
        )
      }
      seen.set(name, key)
    }
  }
}

function preparedOf(item: unknown): Prepared | null {
  if (typeof item !== 'object' || item === null || !('_prepare' in item)) return null
  const prepare = item._prepare
  return typeof prepare === 'function' ? (prepare.call(item) as Prepared) : null
}

const dialect = new SQLiteAsyncDialect()

/** The name SQLite gives a selected field: a column's name, an alias, else the expression's text. */
function outputColumnName(field: unknown): string | null {
  if (is(field, Column)) return field.name
  if (is(field, SQL.Aliased)) return field.fieldAlias
  if (!is(field, SQL)) return null
  const text = dialect.sqlToQuery(field).sql.trim()
  // sql`${table.column}` renders as "table"."column", which SQLite names by the column alone.
  return /^"[^"]*"\."([^"]*)"$/.exec(text)?.[1] ?? text
}
