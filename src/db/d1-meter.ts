/**
 * Counts D1's `meta.rows_written` for the control-plane benchmark. Off unless the Worker runs with
 * the var `D1_METER=on` (the benchmark's own `wrangler dev`); then every D1 call made through
 * `meteredD1(env)` adds its rows to one counter per isolate (under `wrangler dev` the Worker and its
 * Durable Objects share the isolate). Statements run with `.raw()` are counted by running them with
 * `.all()` when they write; `.first()` is used only for reads.
 */
import { settingsOf, type Env } from '../env'

let rowsWritten = 0
/** Rows by statement kind and table, e.g. `update agents`. */
let rowsByStatement: Record<string, number> = {}
const metered = new WeakMap<D1Database, D1Database>()
const wrappers = new WeakSet<D1Database>()
const inner = new WeakMap<D1PreparedStatement, { statement: D1PreparedStatement; query: string }>()

export function isMeterOn(env: Env): boolean {
  return settingsOf(env).d1Meter
}

/** Rows written since the isolate started (or the last reset), in all and by statement kind and table. */
export function readMeter(): { total: number; byStatement: Record<string, number> } {
  return { total: rowsWritten, byStatement: { ...rowsByStatement } }
}

export function resetMeter(): void {
  rowsWritten = 0
  rowsByStatement = {}
}

/** The env's D1 binding, counting writes when the meter is on. */
export function meteredD1(env: Env): D1Database {
  if (!isMeterOn(env) || wrappers.has(env.DB)) return env.DB
  const cached = metered.get(env.DB)
  if (cached) return cached
  const db = env.DB
  const wrapped = {
    prepare: (query: string) => wrapStatement(db.prepare(query), query),
    batch: async <T>(statements: D1PreparedStatement[]) => {
      const results = await db.batch<T>(statements.map((s) => inner.get(s)?.statement ?? s))
      results.forEach((r, i) => count(r.meta, inner.get(statements[i]!)?.query ?? ''))
      return results
    },
    exec: async (query: string) => db.exec(query),
    dump: async () => db.dump(),
    withSession: (constraint?: string) => db.withSession(constraint),
  } as unknown as D1Database
  metered.set(db, wrapped)
  wrappers.add(wrapped)
  return wrapped
}

function wrapStatement(statement: D1PreparedStatement, query: string): D1PreparedStatement {
  const isWrite = !/^\s*(select|with|pragma|explain)\b/i.test(query)
  const wrapped = {
    bind: (...values: unknown[]) => wrapStatement(statement.bind(...values), query),
    first: (column?: string) => (column === undefined ? statement.first() : statement.first(column)),
    run: async () => counted(await statement.run(), query),
    all: async () => counted(await statement.all(), query),
    raw: async (options?: { columnNames?: boolean }) => {
      if (!isWrite) return options?.columnNames ? statement.raw({ columnNames: true }) : statement.raw()
      const result = counted(await statement.all<Record<string, unknown>>(), query)
      const rows = result.results.map((row) => Object.values(row))
      const names = Object.keys(result.results[0] ?? {})
      return options?.columnNames ? [names, ...rows] : rows
    },
  } as unknown as D1PreparedStatement
  inner.set(wrapped, { statement, query })
  return wrapped
}

function counted<R extends { meta: D1Meta }>(result: R, query: string): R {
  count(result.meta, query)
  return result
}

function count(meta: D1Meta | undefined, query: string): void {
  const rows = meta?.rows_written ?? 0
  if (rows === 0) return
  rowsWritten += rows
  const kind = statementKind(query)
  rowsByStatement[kind] = (rowsByStatement[kind] ?? 0) + rows
}

/** `insert spot_prices`, `update agents`, ... */
function statementKind(query: string): string {
  const match = /^\s*(insert|update|delete|replace)\b(?:\s+or\s+\w+)?(?:\s+into|\s+from)?\s+["`]?(\w+)/i.exec(
    query,
  )
  return match ? `${match[1]!.toLowerCase()} ${match[2]}` : 'other'
}
