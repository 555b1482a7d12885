/**
 * Counts D1's `meta.rows_written` for the control-plane benchmark. Off unless the Worker runs with
 * the var `D1_METER=on` (the benchmark's own `wrangler dev`); then every D1 call made through
 * `meteredD1(env)` adds its rows to one counter per isolate (under `wrangler dev` the Worker and its
 * Durable Objects share the isolate). Statements run with `.raw()` are counted by running them with
 * `.all()` when they write; `.first()` is used only for reads.
 */
import type { Env } from '../env'

interface MeterEnv {
  D1_METER?: string
}

let rowsWritten = 0
const metered = new WeakMap<D1Database, D1Database>()
const wrappers = new WeakSet<D1Database>()
const inner = new WeakMap<D1PreparedStatement, D1PreparedStatement>()

export function isMeterOn(env: Env): boolean {
  return (env as Env & MeterEnv).D1_METER === 'on'
}

/** Rows written since the isolate started (or the last reset). */
export function readMeter(): number {
  return rowsWritten
}

export function resetMeter(): void {
  rowsWritten = 0
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
      const results = await db.batch<T>(statements.map((s) => inner.get(s) ?? s))
      for (const r of results) count(r.meta)
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
    run: async () => counted(await statement.run()),
    all: async () => counted(await statement.all()),
    raw: async (options?: { columnNames?: boolean }) => {
      if (!isWrite) return options?.columnNames ? statement.raw({ columnNames: true }) : statement.raw()
      const result = counted(await statement.all<Record<string, unknown>>())
      const rows = result.results.map((row) => Object.values(row))
      const names = Object.keys(result.results[0] ?? {})
      return options?.columnNames ? [names, ...rows] : rows
    },
  } as unknown as D1PreparedStatement
  inner.set(wrapped, statement)
  return wrapped
}

function counted<R extends { meta: D1Meta }>(result: R): R {
  count(result.meta)
  return result
}

function count(meta: D1Meta | undefined): void {
  rowsWritten += meta?.rows_written ?? 0
}
