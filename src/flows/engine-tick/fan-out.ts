/**
 * The 5-minute engine run, spread over the clients: the cron pages through clients (keyset on id,
 * CLIENT_PAGE_SIZE a page) and runs each client's agents together (client-run.ts), at most
 * CLIENT_CONCURRENCY clients at a time. Parameter versions are read once for the run. An agent's
 * Durable Object is called only when a command is queued for it: the engine costs no object request
 * per agent (it did, once per agent and run, when each agent's run lived in its object). A failing
 * client is logged and counted; the others still run.
 */
import { asc, gt } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { clients } from '../../db/schema'
import type { Env } from '../../env'
import { log } from '../../log'
import { runClient, type ClientRunSummary } from './client-run'
import { eachBounded } from './each-bounded'
import { loadRunParams, type RunParams } from './run'

/** Clients read per D1 query. */
export const CLIENT_PAGE_SIZE = 100
/**
 * Clients run at once: their D1 round trips overlap while the cron's open requests and memory (a page
 * of agents and the markets of each client in flight) stay bounded whatever the fleet size.
 */
export const CLIENT_CONCURRENCY = 4

export type RunOneClient = (clientId: string, params: RunParams) => Promise<ClientRunSummary>

export interface EngineRunSummary {
  clients: number
  agents: number
  commands: number
  /** Agents whose run failed. */
  failed: number
  /** Clients whose run failed part way (their remaining agents wait for the next run). */
  failedClients: number
}

/** The cron's engine job: every client's agents decided together in this invocation. */
export function runEngine(env: Env, db: Database, now: number): Promise<EngineRunSummary> {
  return fanOut(db, (clientId, params) => runClient(env, db, clientId, params, now))
}

/** Pages through the clients and runs `run` for each, `limits.concurrency` at a time. */
export async function fanOut(
  db: Database,
  run: RunOneClient,
  limits = { pageSize: CLIENT_PAGE_SIZE, concurrency: CLIENT_CONCURRENCY },
): Promise<EngineRunSummary> {
  const params = await loadRunParams(db)
  const summary: EngineRunSummary = { clients: 0, agents: 0, commands: 0, failed: 0, failedClients: 0 }
  let after: string | null = null
  for (;;) {
    const page = await db
      .select({ id: clients.id })
      .from(clients)
      .where(after === null ? undefined : gt(clients.id, after))
      .orderBy(asc(clients.id))
      .limit(limits.pageSize)
    await eachBounded(page, limits.concurrency, async ({ id }) => {
      try {
        const ran = await run(id, params)
        if (ran.agents > 0) summary.clients++
        summary.agents += ran.agents
        summary.commands += ran.commands
        summary.failed += ran.failed
      } catch (err) {
        summary.failedClients++
        log.error({ job: 'engine', client_id: id, message: (err as Error).message })
      }
    })
    if (page.length < limits.pageSize) return summary
    after = page[page.length - 1]!.id
  }
}
