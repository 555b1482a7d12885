/**
 * What an engine run costs, counted around the bindings it is given: D1 round trips (a batch is one,
 * its statements counted apart) and Durable Object RPC calls by method.
 */
import type { Env } from '../../../src/env'
import { database, type Database } from '../../../src/db/client'

export interface Meter {
  d1Queries: number
  d1Statements: number
  objectCalls: Record<string, number>
}

export const objectCallsOf = (meter: Meter) => Object.values(meter.objectCalls).reduce((s, n) => s + n, 0)

/** `env` with counting D1 and agent-session bindings, the database over it and the counters. */
export function metered(env: Env): { env: Env; db: Database; meter: Meter } {
  const meter: Meter = { d1Queries: 0, d1Statements: 0, objectCalls: {} }
  const inner = new WeakMap<object, D1PreparedStatement>()
  const query = () => {
    meter.d1Queries++
    meter.d1Statements++
  }
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const wrapped = {
      bind: (...values: unknown[]) => wrap(statement.bind(...values)),
      first: (column?: string) => (
        query(),
        column === undefined ? statement.first() : statement.first(column)
      ),
      run: () => (query(), statement.run()),
      all: () => (query(), statement.all()),
      raw: (options?: { columnNames?: boolean }) => (
        query(),
        options?.columnNames ? statement.raw({ columnNames: true }) : statement.raw()
      ),
    } as unknown as D1PreparedStatement
    inner.set(wrapped, statement)
    return wrapped
  }
  const d1 = env.DB
  const DB = {
    prepare: (sql: string) => wrap(d1.prepare(sql)),
    batch: (statements: D1PreparedStatement[]) => {
      meter.d1Queries++
      meter.d1Statements += statements.length
      return d1.batch(statements.map((s) => inner.get(s) ?? s))
    },
    exec: (sql: string) => d1.exec(sql),
    dump: () => d1.dump(),
    withSession: (constraint?: string) => d1.withSession(constraint),
  } as unknown as D1Database
  const ns = env.AGENT_SESSION
  const AGENT_SESSION = {
    idFromName: (name: string) => ns.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = ns.get(id)
      return new Proxy(stub, {
        get(target, property) {
          const value = Reflect.get(target, property) as unknown
          if (typeof property !== 'string' || typeof value !== 'function') return value
          return (...args: unknown[]) => {
            meter.objectCalls[property] = (meter.objectCalls[property] ?? 0) + 1
            // Reflect.apply: an RPC stub answers any property, `apply` included, as a remote method.
            return Reflect.apply(value as (...a: unknown[]) => unknown, target, args)
          }
        },
      })
    },
  }
  const counted = { ...env, DB, AGENT_SESSION } as unknown as Env
  return { env: counted, db: database(DB), meter }
}
