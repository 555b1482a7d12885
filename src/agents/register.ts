/**
 * Agent registration. An agent is `(client, logical_agent_id)`: registering again returns the same
 * agent and updates its instance facts; a deleted agent is refused (410) so a stray copy can't revive it.
 * Writes `agents` and `instances` for the registering agent.
 */
import { and, eq, sql } from 'drizzle-orm'
import type { Database } from '../db/client'
import { agents, instances, type Agent, type MODES } from '../db/schema'
import { ApiError } from '../errors'
import { newId } from '../ids'

export interface RegistrationFacts {
  clientId: string
  logicalAgentId: string
  instanceId: string
  instanceType: string | null
  region: string | null
  az: string | null
  amiId: string | null
  mode: (typeof MODES)[number]
  hostname: string | null
  agentVersion: string | null
  privateIp: string | null
  publicIp: string | null
}

/** Creates or updates the agent and its instance at server time `now`; returns the agent row. */
export async function registerAgent(db: Database, facts: RegistrationFacts, now: number): Promise<Agent> {
  const identity = and(eq(agents.clientId, facts.clientId), eq(agents.logicalAgentId, facts.logicalAgentId))
  const [existing] = await db.select().from(agents).where(identity).limit(1)
  if (existing && (existing.status === 'deleted' || existing.deletedAt !== null)) {
    throw new ApiError('GONE', 'agent was deleted; re-enable it from the dashboard')
  }
  const agentFacts = {
    hostname: facts.hostname ?? existing?.hostname ?? null,
    agentVersion: facts.agentVersion ?? existing?.agentVersion ?? null,
    instanceId: facts.instanceId,
    updatedAt: now,
  }
  // The instance row names its agent through the identity, so a concurrent first registration
  // of the same logical agent still lands on one agent row.
  const agentIdOfIdentity = sql`(select ${agents.id} from ${agents} where ${agents.clientId} = ${facts.clientId} and ${agents.logicalAgentId} = ${facts.logicalAgentId})`
  const instanceFacts = {
    agentId: agentIdOfIdentity,
    instanceType: facts.instanceType,
    region: facts.region,
    az: facts.az,
    amiId: facts.amiId,
    mode: facts.mode,
    poolId:
      facts.mode === 'spot' && facts.instanceType && facts.az ? `${facts.instanceType}.${facts.az}` : null,
    privateIp: facts.privateIp,
    publicIp: facts.publicIp,
    status: 'active' as const,
    updatedAt: now,
    terminatedAt: null,
  }
  // A registration after an IMDS failure sends "unknown": keep what was known.
  const instanceUpdate = {
    ...instanceFacts,
    instanceType: sql`coalesce(excluded.instance_type, ${instances.instanceType})`,
    region: sql`coalesce(excluded.region, ${instances.region})`,
    az: sql`coalesce(excluded.az, ${instances.az})`,
    amiId: sql`coalesce(excluded.ami_id, ${instances.amiId})`,
    mode: sql`case when excluded.mode = 'unknown' then ${instances.mode} else excluded.mode end`,
    poolId: sql`case when excluded.mode = 'unknown' then ${instances.poolId} else excluded.pool_id end`,
    privateIp: sql`coalesce(excluded.private_ip, ${instances.privateIp})`,
  }
  const [, , [agent]] = await db.batch([
    db
      .insert(agents)
      .values({
        id: existing?.id ?? newId('agt'),
        clientId: facts.clientId,
        logicalAgentId: facts.logicalAgentId,
        // Liveness (status, last heartbeat) is the agent's Durable Object's to write after this.
        status: 'online',
        lastHeartbeatAt: now,
        createdAt: now,
        ...agentFacts,
      })
      .onConflictDoUpdate({
        target: [agents.clientId, agents.logicalAgentId],
        set: agentFacts,
      }),
    db
      .insert(instances)
      .values({
        id: newId('ins'),
        clientId: facts.clientId,
        instanceId: facts.instanceId,
        createdAt: now,
        ...instanceFacts,
      })
      .onConflictDoUpdate({ target: [instances.clientId, instances.instanceId], set: instanceUpdate }),
    db.select().from(agents).where(identity).limit(1),
  ])
  if (!agent) throw new Error('agent row missing after registration')
  return agent
}
