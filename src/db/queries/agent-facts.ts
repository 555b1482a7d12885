/** What the engine needs of an agent besides the market: its instance, week of switches, pending switch. */
import { and, desc, eq, gte, inArray, isNull, or, gt } from 'drizzle-orm'
import { findInstanceOfAgent } from './instances'
import { UNCOUNTED_TRIGGERS, type AgentFacts } from '../../engine/agent-input'
import type { Database } from '../client'
import { commands, switches, type Agent, type Instance } from '../schema'

const WEEK = 7 * 24 * 3_600_000
const PENDING = ['queued', 'delivered', 'acked', 'running'] as const

export async function loadAgentFacts(db: Database, agent: Agent, now: number): Promise<AgentFacts<Instance>> {
  const instance = agent.instanceId ? await findInstanceOfAgent(db, agent, agent.instanceId) : null
  const recent = await db
    .select({ at: switches.receivedAt, trigger: switches.trigger, newInstanceId: switches.newInstanceId })
    .from(switches)
    .where(
      and(
        eq(switches.agentId, agent.id),
        eq(switches.clientId, agent.clientId),
        gte(switches.receivedAt, now - WEEK),
        isNull(switches.undoneAt),
      ),
    )
    .orderBy(desc(switches.receivedAt))
  const [pending] = await db
    .select({ id: commands.id })
    .from(commands)
    .where(
      and(
        eq(commands.agentId, agent.id),
        eq(commands.commandType, 'switch'),
        inArray(commands.status, [...PENDING]),
        or(isNull(commands.expiresAt), gt(commands.expiresAt, now)),
      ),
    )
    .limit(1)
  const last = recent[0]
  const uncounted: readonly string[] = UNCOUNTED_TRIGGERS
  return {
    instance,
    switchTimes: recent.filter((s) => !uncounted.includes(s.trigger)).map((s) => s.at),
    since: Math.max(last?.at ?? 0, instance?.createdAt ?? 0),
    imposed:
      last !== undefined && uncounted.includes(last.trigger) && last.newInstanceId === agent.instanceId,
    commandInFlight: pending !== undefined,
  }
}
