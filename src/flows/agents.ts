/**
 * Every change of an agent's row. Each function returns its statement, unexecuted: a caller whose
 * change must land with others puts it in its `db.batch([...])` (D1 has no transactions), one alone
 * awaits it.
 * Writes: `agents`.
 */
import { and, eq, isNull, lte, ne, or, sql } from 'drizzle-orm'
import type { Database } from '../db/client'
import { agents, type Agent, type AGENT_IDENTITIES } from '../db/schema'

/** What a registration sets on the agent, whether it is new or known. */
export interface RegisteredAgentFacts {
  hostname: string | null
  agentVersion: string | null
  instanceId: string
  /** `verified` once it registered with a signed identity document; it never goes back. */
  identity: (typeof AGENT_IDENTITIES)[number]
  /** The registering instance's type: set once, as the workload's base type (a known one keeps its own). */
  baseInstanceType: string | null
  /** What the registering instance's image boots (null: its agent did not say); replaces what was known. */
  imageArchitecture: string | null
  imageEnaSupport: boolean | null
  updatedAt: number
}

/**
 * Creates the agent `(client, logical id)` online, or updates a known one's facts (its liveness stays
 * the Durable Object's to write).
 */
export function upsertRegisteredAgent(
  db: Database,
  agent: { id: string; clientId: string; logicalAgentId: string },
  facts: RegisteredAgentFacts,
  now: number,
) {
  const { baseInstanceType, ...kept } = facts
  return db
    .insert(agents)
    .values({ ...agent, status: 'online', lastHeartbeatAt: now, createdAt: now, ...facts })
    .onConflictDoUpdate({
      target: [agents.clientId, agents.logicalAgentId],
      // The first type seen stays the base: a switch to another type does not move it.
      set: { ...kept, baseInstanceType: sql`coalesce(${agents.baseInstanceType}, ${baseInstanceType})` },
    })
}

/** The agent's workload runs on this instance now (a switch or a promotion). */
export function moveAgentTo(db: Database, agentId: string, instanceId: string, now: number) {
  return db.update(agents).set({ instanceId, updatedAt: now }).where(eq(agents.id, agentId))
}

/**
 * A promotion the agent refused is undone: the workload runs on `to` again, unless something moved the
 * agent off `from` (the promoted instance) since (compare-and-set).
 */
export function moveAgentBack(db: Database, agentId: string, from: string, to: string, now: number) {
  return db
    .update(agents)
    .set({ instanceId: to, updatedAt: now })
    .where(and(eq(agents.id, agentId), eq(agents.instanceId, from)))
}

/** A liveness step of the agent's Durable Object; a deleted agent keeps its status. */
export function agentLivenessUpdate(
  db: Database,
  owner: { clientId: string; agentId: string },
  write: { status: Agent['status']; lastHeartbeatAt: number | null },
  now: number,
) {
  return db
    .update(agents)
    .set({ status: write.status, lastHeartbeatAt: write.lastHeartbeatAt, updatedAt: now })
    .where(
      and(eq(agents.id, owner.agentId), eq(agents.clientId, owner.clientId), ne(agents.status, 'deleted')),
    )
}

/** Enables or disables the agent; re-enabling a deleted one revives it (offline until it registers). */
export function setAgentEnabled(db: Database, agent: Agent, enabled: boolean, now: number) {
  const revives = enabled && agent.status === 'deleted'
  return db
    .update(agents)
    .set({ enabled, updatedAt: now, ...(revives ? { status: 'offline' as const, deletedAt: null } : {}) })
    .where(eq(agents.id, agent.id))
}

/** The agent's settings as a person changed them. */
export function updateAgentSettings(db: Database, agentId: string, change: Partial<Agent>, now: number) {
  return db
    .update(agents)
    .set({ ...change, updatedAt: now })
    .where(eq(agents.id, agentId))
}

/** The agent deleted by a person: disabled, its registration refused until it is re-enabled. */
export function markAgentDeleted(db: Database, agentId: string, now: number) {
  return db
    .update(agents)
    .set({ status: 'deleted', enabled: false, deletedAt: now, updatedAt: now })
    .where(eq(agents.id, agentId))
}

/** Every agent of a deleted client disabled. */
export function disableAgentsOfClient(db: Database, clientId: string, now: number) {
  return db.update(agents).set({ enabled: false, updatedAt: now }).where(eq(agents.clientId, clientId))
}

/**
 * The agent's newest backup AMI (made at `at`, epoch ms by EC2's clock as the agent read it); an older
 * one reported late (an outbox replayed after a restart) leaves the newer in place.
 */
export function recordBackupImage(
  db: Database,
  owner: { clientId: string; agentId: string },
  image: { imageId: string; at: number },
  now: number,
) {
  return db
    .update(agents)
    .set({ backupImageId: image.imageId, backupImageAt: image.at, updatedAt: now })
    .where(
      and(
        eq(agents.id, owner.agentId),
        eq(agents.clientId, owner.clientId),
        or(isNull(agents.backupImageAt), lte(agents.backupImageAt, image.at)),
      ),
    )
}
