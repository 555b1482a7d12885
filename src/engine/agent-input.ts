/** The engine's input for one agent: its placement, recent switches and pending commands (D1), plus the market. */
import { and, desc, eq, gte, inArray, isNull, or, gt } from 'drizzle-orm'
import { findInstanceOfAgent } from '../agents/instances'
import type { Database } from '../db/client'
import { commands, switches, type Agent, type Instance } from '../db/schema'
import type { Market } from './market'
import { effectiveThresholds, type EngineParams } from './params'
import type { EngineInput } from './types'

const WEEK = 7 * 24 * 3_600_000
const PENDING = ['queued', 'delivered', 'acked', 'running'] as const

/** Switches forced by an interruption are emergencies: not counted against the caps. */
export const UNCOUNTED_TRIGGERS = ['interruption'] as const

/** What the engine needs of an agent besides the market. */
export interface AgentFacts {
  instance: Instance | null
  switchTimes: number[]
  since: number
  imposed: boolean
  commandInFlight: boolean
}

export async function loadAgentFacts(db: Database, agent: Agent, now: number): Promise<AgentFacts> {
  const instance = agent.instanceId ? await findInstanceOfAgent(db, agent, agent.instanceId) : null
  const recent = await db
    .select({ at: switches.receivedAt, trigger: switches.trigger, newInstanceId: switches.newInstanceId })
    .from(switches)
    .where(
      and(
        eq(switches.agentId, agent.id),
        eq(switches.clientId, agent.clientId),
        gte(switches.receivedAt, now - WEEK),
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

/** The engine input, or null when the agent's placement or the on-demand price is unknown. */
export function engineInput(
  agent: Agent,
  facts: AgentFacts,
  market: Market,
  params: EngineParams,
  now: number,
): EngineInput | null {
  const instance = facts.instance
  if (!instance || instance.mode === 'unknown' || market.onDemandPrice === null) return null
  return {
    now,
    agent: {
      enabled: agent.enabled && agent.status !== 'disabled',
      online: agent.status === 'online',
      commandInFlight: facts.commandInFlight,
    },
    current: {
      mode: instance.mode,
      poolId: instance.mode === 'spot' ? instance.poolId : null,
      since: facts.since,
      imposed: facts.imposed,
    },
    onDemandPrice: market.onDemandPrice,
    pools: market.pools,
    switchTimes: facts.switchTimes,
    thresholds: effectiveThresholds(params, {
      min_savings_percent: agent.minSavingsPercent,
      risk_threshold: agent.riskThreshold,
      max_switches_per_day: agent.maxSwitchesPerDay,
      max_switches_per_week: agent.maxSwitchesPerWeek,
      min_pool_duration_hours: agent.minPoolDurationHours,
    }),
  }
}
