/**
 * The installed agents' polling routes (pending-commands every 15 s, replicas every 30 s, config every
 * 60 s) read the token and the agent in one D1 round trip: each round trip is a network hop to D1 in
 * production and a request to the one local database under `wrangler dev` (npm run test:load).
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { eq } from 'drizzle-orm'
import worker from '../../../src/index'
import { database } from '../../../src/db/client'
import { agents } from '../../../src/db/schema'
import { syncSegments } from '../../../src/flows/ledger/segments'
import { db, newAgent } from './helpers'

/** `d1` counting its round trips: a batch once, a statement run outside a batch once. */
function countingD1(d1: D1Database) {
  let roundTrips = 0
  const original = new WeakMap<object, D1PreparedStatement>()
  const wrapStatement = (statement: D1PreparedStatement): D1PreparedStatement => {
    const wrapped = {
      bind: (...values: unknown[]) => wrapStatement(statement.bind(...values)),
      first: (...args: [string?]) => (
        roundTrips++,
        args[0] === undefined ? statement.first() : statement.first(args[0])
      ),
      run: () => (roundTrips++, statement.run()),
      all: () => (roundTrips++, statement.all()),
      raw: (options?: { columnNames?: boolean }) => (
        roundTrips++,
        options?.columnNames ? statement.raw({ columnNames: true }) : statement.raw()
      ),
    } as unknown as D1PreparedStatement
    original.set(wrapped, statement)
    return wrapped
  }
  const db = {
    prepare: (query: string) => wrapStatement(d1.prepare(query)),
    batch: (statements: D1PreparedStatement[]) => {
      roundTrips++
      return d1.batch(statements.map((s) => original.get(s) ?? s))
    },
    exec: (query: string) => (roundTrips++, d1.exec(query)),
  } as unknown as D1Database
  return { db, roundTrips: () => roundTrips }
}

async function roundTripsOf(path: string, headers: Record<string, string>): Promise<number> {
  const counting = countingD1(env.DB)
  const ctx = createExecutionContext()
  const response = await worker.fetch(
    new Request(`http://spotguard.test${path}`, { headers }),
    { ...env, DB: counting.db },
    ctx,
  )
  await waitOnExecutionContext(ctx)
  expect(response.status).toBe(200)
  return counting.roundTrips()
}

describe("the installed agent's polls", () => {
  it('read the client token and the agent in one D1 round trip', async () => {
    const agent = await newAgent()
    const base = `/api/agents/${agent.agentId}`
    expect(await roundTripsOf(`${base}/pending-commands`, agent.client.auth)).toBe(1)
    // Then the data of the route: the engine's thresholds, the replicas.
    expect(await roundTripsOf(`${base}/config`, agent.client.auth)).toBe(2)
    expect(await roundTripsOf(`${base}/replicas?status=launching`, agent.client.auth)).toBe(2)
  })
})

describe("a registration's ledger sync", () => {
  it("reads the agent's segments, instances, replicas and switches in one D1 round trip", async () => {
    const { agentId } = await newAgent()
    const [agent] = await db().select().from(agents).where(eq(agents.id, agentId))
    // Synced once (the registration's own sync may still be running): a second sync only reads.
    await syncSegments(db(), agent!, Date.now())
    const counting = countingD1(env.DB)
    expect(await syncSegments(database(counting.db), agent!, Date.now())).toEqual({ opened: 0, closed: 0 })
    expect(counting.roundTrips()).toBe(1)
  })
})
