/** One switch of a client, for its detail page (scoped: another client's switch is not found). */
import { and, eq } from 'drizzle-orm'
import type { Database } from '../client'
import { agents, switches, type Switch } from '../schema'

export async function switchInScope(
  db: Database,
  clientId: string,
  switchId: string,
): Promise<{ row: Switch; logicalAgentId: string | null } | null> {
  const [found] = await db
    .select({ row: switches, logicalAgentId: agents.logicalAgentId })
    .from(switches)
    .leftJoin(agents, and(eq(agents.clientId, switches.clientId), eq(agents.id, switches.agentId)))
    .where(and(eq(switches.clientId, clientId), eq(switches.id, switchId)))
    .limit(1)
  return found ?? null
}
