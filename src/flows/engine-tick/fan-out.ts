/**
 * The 5-minute engine run, spread over the fleet: the cron pages through the agents the engine runs for
 * (keyset on id, PAGE_SIZE a page) and hands each agent's run to that agent's Durable Object, at most
 * CONCURRENCY at a time. Each run so has its own invocation (its own CPU time and subrequests, about ten
 * D1 queries) and is serialised with the agent's other work in its object; the cron itself spends one
 * D1 query per page and one object request per agent. Parameter versions are read once here and passed
 * along (two D1 reads per run instead of two per agent). A failing agent is logged and counted.
 */
import { and, asc, gt } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { agents } from '../../db/schema'
import { ENGINE_AGENTS, loadRunParams } from './run'
import type { Env } from '../../env'
import { log } from '../../log'
import { sessionOf } from '../../session/stub'
import type { EngineTickInput, EngineTickResult } from '../../session/types'

/** Agents read per D1 query: the page's ids are a few KB. */
export const PAGE_SIZE = 200
/**
 * Agent runs in flight at once: the cron's open requests and memory stay bounded whatever the fleet
 * size, while a fleet's runs still overlap (the D1 round trips of each run are the wait).
 */
export const CONCURRENCY = 32

export type Tick = (input: EngineTickInput) => Promise<EngineTickResult>

export interface EngineRunSummary {
  agents: number
  commands: number
  failed: number
}

/** The cron's engine job: every agent's run in its own Durable Object. */
export function runEngine(env: Env, db: Database, now: number): Promise<EngineRunSummary> {
  return fanOut(db, now, (input) => sessionOf(env, input.agentId).engineTick(input))
}

/** Pages through the engine's agents and runs `tick` for each, `limits.concurrency` at a time. */
export async function fanOut(
  db: Database,
  now: number,
  tick: Tick,
  limits = { pageSize: PAGE_SIZE, concurrency: CONCURRENCY },
): Promise<EngineRunSummary> {
  const params = await loadRunParams(db)
  const summary = { agents: 0, commands: 0, failed: 0 }
  let after: string | null = null
  for (;;) {
    const page = await db
      .select({ agentId: agents.id, clientId: agents.clientId })
      .from(agents)
      .where(after === null ? ENGINE_AGENTS : and(ENGINE_AGENTS, gt(agents.id, after)))
      .orderBy(asc(agents.id))
      .limit(limits.pageSize)
    summary.agents += page.length
    await eachBounded(page, limits.concurrency, async (ref) => {
      try {
        const result = await tick({ ...ref, params, now })
        if (result.kind === 'decided' && result.action === 'command') summary.commands++
      } catch (err) {
        summary.failed++
        log.error({ job: 'engine', agent_id: ref.agentId, message: (err as Error).message })
      }
    })
    if (page.length < limits.pageSize) return summary
    after = page[page.length - 1]!.agentId
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight (`fn` must not throw). */
async function eachBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
