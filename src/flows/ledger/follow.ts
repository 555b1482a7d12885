/** The ledger following an event: the agent's segments re-derived in the background of the request. */
import { and, eq } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { agents } from '../../db/schema'
import { log } from '../../log'
import { syncSegments } from './segments'

/** Syncs the agent's segments at `now`; failures are logged (the ledger cron catches up). */
export async function followAgent(
  db: Database,
  clientId: string,
  agentId: string,
  now: number,
): Promise<void> {
  try {
    const [agent] = await db
      .select()
      .from(agents)
      .where(and(eq(agents.id, agentId), eq(agents.clientId, clientId)))
      .limit(1)
    if (agent) await syncSegments(db, agent, now)
  } catch (err) {
    log.error({ job: 'ledger-follow', agent_id: agentId, message: (err as Error).message })
  }
}
