/**
 * The engine's 5-minute run of one agent as each agent's Durable Object ran it before the run was
 * batched per client (the reference the per-client run is compared with): the row read again, the
 * standby kept, the segments synced, then `runForAgent` with a context of its own.
 */
import { and, eq } from 'drizzle-orm'
import type { Database } from '../../../src/db/client'
import { agents } from '../../../src/db/schema'
import type { Env } from '../../../src/env'
import { maintainStandby } from '../../../src/flows/failover/standby'
import { syncSegments } from '../../../src/flows/ledger/segments'
import { contextOf, ENGINE_AGENTS, runForAgent, type RunParams } from '../../../src/flows/engine-tick/run'

export async function perAgentTick(
  env: Env,
  db: Database,
  ref: { clientId: string; agentId: string },
  params: RunParams,
  now: number,
) {
  const [agent] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.id, ref.agentId), eq(agents.clientId, ref.clientId), ENGINE_AGENTS))
    .limit(1)
  if (!agent) return null
  await maintainStandby(env, db, agent, now)
  await syncSegments(db, agent, now)
  return runForAgent(env, db, agent, contextOf(params), now, { store: true, act: true })
}
