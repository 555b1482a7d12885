/**
 * Whether D1's copy of an agent's queue holds an open command. The agent's Durable Object is the
 * queue's one writer and copies every change to D1 before it answers (a copy D1 refused is retried
 * by its alarm within 30 s), so an agent D1 shows nothing open for has nothing to hand out: the
 * installed agents' polls (every 15 s) are answered without calling the object.
 */
import { and, eq, isNull, type SQL } from 'drizzle-orm'
import type { Database } from '../client'
import { commands } from '../schema'

/** The read of one open command of `agentId` among `clientId`'s (alone, or in a batch). */
export function openCommandQuery(db: Database, clientId: string | SQL, agentId: string) {
  return db
    .select({ id: commands.id })
    .from(commands)
    .where(and(eq(commands.agentId, agentId), eq(commands.clientId, clientId), isNull(commands.finishedAt)))
    .limit(1)
}
