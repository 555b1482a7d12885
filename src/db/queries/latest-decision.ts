/** The agent's latest stored decision, read by the engine's run (repeat or new) and the instance page. */
import { and, desc, eq } from 'drizzle-orm'
import type { Database } from '../client'
import { decisions, type Agent } from '../schema'

export type DecisionRow = typeof decisions.$inferSelect

/** The agent's latest decision (live or shadow), or null. */
export async function latestDecision(
  db: Database,
  agent: Agent,
  shadow: boolean,
): Promise<DecisionRow | null> {
  const [row] = await db
    .select()
    .from(decisions)
    .where(
      and(
        eq(decisions.agentId, agent.id),
        eq(decisions.clientId, agent.clientId),
        eq(decisions.shadow, shadow),
      ),
    )
    .orderBy(desc(decisions.lastSeenAt), desc(decisions.createdAt))
    .limit(1)
  return row ?? null
}
