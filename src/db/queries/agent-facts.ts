/**
 * What the engine needs of an agent besides the market: its instance, week of switches, pending switch;
 * for one agent, or for a client's agents together (the 5-minute run).
 */
import { and, desc, eq, gte, inArray, isNull, or, gt } from 'drizzle-orm'
import { findInstanceOfAgent } from './instances'
import { UNCOUNTED_TRIGGERS, type AgentFacts } from '../../engine/agent-input'
import type { Database } from '../client'
import { commands, instances, switches, type Agent, type Instance } from '../schema'

const WEEK = 7 * 24 * 3_600_000
const PENDING = ['queued', 'delivered', 'acked', 'running'] as const

/** A switch of the week as the engine reads it. */
interface RecentSwitch {
  at: number
  trigger: string
  newInstanceId: string | null
  oldMode: string | null
  newMode: string | null
}

/** One agent's facts from its rows: its instance, its switches of the week (newest first), a pending switch. */
function factsOf(
  agent: Agent,
  instance: Instance | null,
  recent: readonly RecentSwitch[],
  hasPending: boolean,
): AgentFacts<Instance> {
  const last = recent[0]
  const uncounted: readonly string[] = UNCOUNTED_TRIGGERS
  return {
    instance,
    switchTimes: recent.filter((s) => !uncounted.includes(s.trigger)).map((s) => s.at),
    spotExits: recent.filter((s) => s.oldMode === 'spot' && s.newMode === 'ondemand').map((s) => s.at),
    since: Math.max(last?.at ?? 0, instance?.createdAt ?? 0),
    imposed:
      last !== undefined && uncounted.includes(last.trigger) && last.newInstanceId === agent.instanceId,
    commandInFlight: hasPending,
  }
}

const pendingSwitch = (now: number) =>
  and(
    eq(commands.commandType, 'switch'),
    inArray(commands.status, [...PENDING]),
    or(isNull(commands.expiresAt), gt(commands.expiresAt, now)),
  )

export async function loadAgentFacts(db: Database, agent: Agent, now: number): Promise<AgentFacts<Instance>> {
  const instance = agent.instanceId ? await findInstanceOfAgent(db, agent, agent.instanceId) : null
  const recent = await db
    .select({
      at: switches.receivedAt,
      trigger: switches.trigger,
      newInstanceId: switches.newInstanceId,
      oldMode: switches.oldMode,
      newMode: switches.newMode,
    })
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
    .where(and(eq(commands.agentId, agent.id), pendingSwitch(now)))
    .limit(1)
  return factsOf(agent, instance, recent, pending !== undefined)
}

/** Agents per query of `loadFactsOfAgents`: their ids and a few more parameters stay within D1's 100. */
export const FACTS_CHUNK = 80

/**
 * The facts of some agents of one client (at most FACTS_CHUNK), in three queries: what `loadAgentFacts`
 * reads of each, keyed by agent id.
 */
export async function loadFactsOfAgents(
  db: Database,
  clientId: string,
  agents: readonly Agent[],
  now: number,
): Promise<Map<string, AgentFacts<Instance>>> {
  if (agents.length > FACTS_CHUNK) throw new Error(`at most ${FACTS_CHUNK} agents per read`)
  const ids = agents.map((a) => a.id)
  const instanceIds = agents.flatMap((a) => (a.instanceId ? [a.instanceId] : []))
  const [insts, recent, pending] = await Promise.all([
    instanceIds.length === 0
      ? []
      : db
          .select()
          .from(instances)
          .where(and(eq(instances.clientId, clientId), inArray(instances.instanceId, instanceIds))),
    db
      .select({
        agentId: switches.agentId,
        at: switches.receivedAt,
        trigger: switches.trigger,
        newInstanceId: switches.newInstanceId,
        oldMode: switches.oldMode,
        newMode: switches.newMode,
      })
      .from(switches)
      .where(
        and(
          inArray(switches.agentId, ids),
          eq(switches.clientId, clientId),
          gte(switches.receivedAt, now - WEEK),
          isNull(switches.undoneAt),
        ),
      )
      .orderBy(desc(switches.receivedAt)),
    db
      .selectDistinct({ agentId: commands.agentId })
      .from(commands)
      .where(and(inArray(commands.agentId, ids), pendingSwitch(now))),
  ])
  const withPending = new Set(pending.map((p) => p.agentId))
  return new Map(
    agents.map((agent) => [
      agent.id,
      factsOf(
        agent,
        insts.find((i) => i.agentId === agent.id && i.instanceId === agent.instanceId) ?? null,
        recent.filter((s) => s.agentId === agent.id),
        withPending.has(agent.id),
      ),
    ]),
  )
}
