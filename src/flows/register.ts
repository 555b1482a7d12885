/**
 * Agent registration. An agent is `(client, logical_agent_id)`: registering again returns the same
 * agent and updates its instance facts; a deleted agent is not revived (nothing written): the caller
 * answers it 410 with the uninstall it still has to run.
 * A standby replica's agent (on AWS it boots with its image and registers under the workload's logical
 * id while the primary still runs) is refused until the replica is promoted: 409 `standby`, or 410
 * `replica_ended` once it ended; nothing is written for either. So is an agent restarted on an instance
 * the workload left that D1 has as ending or ended (409 `retired`): an installed agent on an interrupted
 * instance after its replica was promoted would otherwise make it the primary again.
 * A 5.x agent on any other new instance without a `ReplicaId` tag of its own (none, or one naming a
 * replica recorded on another instance: a promoted replica's tag carried on) waits (409 `standby`)
 * while the workload's agent is online on an instance not ended: a switch's new instance boots its agent before
 * the switch is reported, and a switch that then fails terminates it; taking the workload over at boot
 * would have D1 name a dead instance. The switch report (or the old agent's silence) moves the
 * workload. Installed agents keep taking over at registration (agent-api.md: it completes their
 * switch), and so does the agent's own emergency replacement (`ReplicaId=local-…`).
 * Who may register under a verified agent's logical id, and when a new agent token is minted: flows/identity.ts.
 * Its writes of `agents`, `instances` and `agent_tokens` are flows/agents.ts's, flows/instances.ts's and
 * auth/agent-tokens.ts's.
 */
import { and, desc, eq, or, sql } from 'drizzle-orm'
import type { Database } from '../db/client'
import { agents, instances, replicas, type Agent, type MODES } from '../db/schema'
import { newId } from '../ids'
import { isActiveReplica } from './replicas/states'
import { upsertRegisteredAgent } from './agents'
import { upsertRegisteredInstance } from './instances'
import { statusAt } from '../db/queries/instance-status'
import { refuse, type Refusal } from './refusal'
import { isLegacyAgent } from '../protocol'
import { decideIdentity, IDENTITY_USED, type InstanceProof } from './identity'
import { mintAgentToken } from '../auth/agent-tokens'

/** Seconds a standby replica's agent waits before it asks again. */
export const STANDBY_RETRY_SECONDS = 5

export interface RegistrationFacts {
  clientId: string
  logicalAgentId: string
  instanceId: string
  instanceType: string | null
  region: string | null
  az: string | null
  amiId: string | null
  /** What that image boots, from DescribeImages (5.x agents; null when not said). */
  imageArchitecture: string | null
  imageEnaSupport: boolean | null
  mode: (typeof MODES)[number]
  hostname: string | null
  agentVersion: string | null
  privateIp: string | null
  publicIp: string | null
  /** The `ReplicaId` tag of the registering instance (the 5.x agent sends it; 4.x agents don't). */
  replicaId: string | null
  /** The verified instance identity document's proof; null for a client token alone (unverified). */
  proof: InstanceProof | null
}

export type RegisterOutcome =
  /** `agentToken`: a new token for this instance (shown once), null when none was minted. */
  | { ok: true; kind: 'registered'; agent: Agent; agentToken: string | null }
  | { ok: true; kind: 'deleted'; agent: Agent }

/**
 * Creates or updates the agent and its instance at server time `now`; a deleted agent stays as it is.
 * Refused (nothing written): a standby replica's agent, an instance the workload left, an identity
 * flows/identity.ts refuses.
 */
export async function registerAgent(
  db: Database,
  facts: RegistrationFacts,
  now: number,
): Promise<RegisterOutcome | Refusal> {
  const ofLogicalId = and(
    eq(agents.clientId, facts.clientId),
    eq(agents.logicalAgentId, facts.logicalAgentId),
  )
  const [existing] = await db.select().from(agents).where(ofLogicalId).limit(1)
  if (existing && (existing.status === 'deleted' || existing.deletedAt !== null))
    return { ok: true, kind: 'deleted', agent: existing }
  const registering =
    existing && facts.replicaId ? { ...facts, replicaId: await ownReplicaId(db, existing, facts) } : facts
  if (existing && existing.instanceId !== facts.instanceId) {
    const refusal =
      (await standbyReplicaRefusal(db, existing, registering)) ??
      (await endingInstanceRefusal(db, existing, facts, now))
    if (refusal) return refusal
  }
  const identity = await decideIdentity(db, existing ?? null, facts.proof)
  if (!identity.ok) return identity
  const waiting = existing && (await liveWorkloadRefusal(db, existing, registering, now))
  if (waiting) return waiting
  const agentFacts = {
    hostname: facts.hostname ?? existing?.hostname ?? null,
    agentVersion: facts.agentVersion ?? existing?.agentVersion ?? null,
    instanceId: facts.instanceId,
    identity: facts.proof ? ('verified' as const) : (existing?.identity ?? 'unverified'),
    baseInstanceType: facts.instanceType,
    imageArchitecture: facts.imageArchitecture,
    imageEnaSupport: facts.imageEnaSupport,
    updatedAt: now,
  }
  // The instance row names its agent through the identity, so a concurrent first registration
  // of the same logical agent still lands on one agent row.
  const agentIdOfIdentity = sql`(select ${agents.id} from ${agents} where ${agents.clientId} = ${facts.clientId} and ${agents.logicalAgentId} = ${facts.logicalAgentId})`
  const minted = identity.mint
    ? await mintAgentToken(db, { clientId: facts.clientId, agentId: agentIdOfIdentity }, identity.place, now)
    : null
  const upserts = [
    upsertRegisteredAgent(
      db,
      { id: existing?.id ?? newId('agt'), clientId: facts.clientId, logicalAgentId: facts.logicalAgentId },
      agentFacts,
      now,
    ),
    upsertRegisteredInstance(db, facts, agentIdOfIdentity, now),
  ] as const
  const read = db.select().from(agents).where(ofLogicalId).limit(1)
  let agent: Agent | undefined
  try {
    ;[agent] = minted
      ? (await db.batch([...upserts, minted.insert, read]))[3]
      : (await db.batch([...upserts, read]))[2]
  } catch (err) {
    // A concurrent registration with the same document minted first; the batch wrote nothing.
    if (minted && isUniqueViolation(err)) return IDENTITY_USED
    throw err
  }
  if (!agent) throw new Error('agent row missing after registration')
  return { ok: true, kind: 'registered', agent, agentToken: minted?.token ?? null }
}

function isUniqueViolation(err: unknown): boolean {
  return (
    err instanceof Error &&
    /UNIQUE constraint failed: agent_tokens/.test(`${err.message} ${String(err.cause ?? '')}`)
  )
}

/**
 * The registering instance's `ReplicaId`, unless it names a replica of `agent` recorded on ANOTHER
 * instance: a promoted replica's tag carried to a later launch (its image, an older agent's switch)
 * makes no replica of this one. Taken for that replica, a failed switch's new instance would take the
 * workload over at its boot (liveWorkloadRefusal) and D1 would name an instance the switch terminated.
 */
async function ownReplicaId(db: Database, agent: Agent, facts: RegistrationFacts): Promise<string | null> {
  if (!facts.replicaId) return null
  const [replica] = await db
    .select({ instanceId: replicas.instanceId })
    .from(replicas)
    .where(
      and(
        eq(replicas.clientId, agent.clientId),
        eq(replicas.agentId, agent.id),
        eq(replicas.id, facts.replicaId),
      ),
    )
    .limit(1)
  return replica?.instanceId && replica.instanceId !== facts.instanceId ? null : facts.replicaId
}

/** The status and end of one of `agent`'s instances as D1 has them; undefined when unknown. */
async function instanceOf(db: Database, agent: Agent, instanceId: string) {
  const [row] = await db
    .select({ status: instances.status, terminatedAt: instances.terminatedAt })
    .from(instances)
    .where(
      and(
        eq(instances.clientId, agent.clientId),
        eq(instances.agentId, agent.id),
        eq(instances.instanceId, instanceId),
      ),
    )
    .limit(1)
  return row
}

/** CONFLICT `retired`: the registering instance is one the workload left, ending or ended (D1, at `now`). */
async function endingInstanceRefusal(
  db: Database,
  agent: Agent,
  facts: RegistrationFacts,
  now: number,
): Promise<Refusal | null> {
  const row = await instanceOf(db, agent, facts.instanceId)
  if (!row || statusAt(row, now) === 'active') return null
  return refuse(
    'CONFLICT',
    `the workload runs on ${agent.instanceId} now; this instance is ${statusAt(row, now)}`,
    {
      action: 'retired',
      instance_id: facts.instanceId,
      instance_status: statusAt(row, now),
    },
  )
}

/**
 * CONFLICT `standby`: a 5.x agent on a new instance while the workload's agent is online on an instance
 * not ended (see the top of this file); the agent asks again after `retry_after_seconds`.
 */
async function liveWorkloadRefusal(
  db: Database,
  agent: Agent,
  facts: RegistrationFacts,
  now: number,
): Promise<Refusal | null> {
  const mayTakeOver =
    isLegacyAgent(facts.agentVersion) || facts.replicaId !== null || agent.status !== 'online'
  if (mayTakeOver || agent.instanceId === null || agent.instanceId === facts.instanceId) return null
  const current = await instanceOf(db, agent, agent.instanceId)
  if (!current || statusAt(current, now) === 'terminated') return null
  return refuse(
    'CONFLICT',
    `the workload runs on ${agent.instanceId} (its agent is online): this instance waits until a switch moves it here`,
    {
      action: 'standby',
      replica_id: null,
      instance_id: agent.instanceId,
      retry_after_seconds: STANDBY_RETRY_SECONDS,
    },
  )
}

/**
 * The refusal of a registering instance that is a replica of `agent` not promoted (CONFLICT `standby`
 * while it may still be, GONE `replica_ended` once it ended): matched by the
 * replica id the 5.x agent sends, else by the replica's recorded instance (what a 4.0.0 agent booting
 * on a replica is known by). A promoted replica registers normally; one never seen is no replica.
 */
async function standbyReplicaRefusal(
  db: Database,
  agent: Agent,
  facts: RegistrationFacts,
): Promise<Refusal | null> {
  const byInstance = eq(replicas.instanceId, facts.instanceId)
  const [replica] = await db
    .select({ id: replicas.id, status: replicas.status })
    .from(replicas)
    .where(
      and(
        eq(replicas.clientId, agent.clientId),
        eq(replicas.agentId, agent.id),
        facts.replicaId ? or(eq(replicas.id, facts.replicaId), byInstance) : byInstance,
      ),
    )
    .orderBy(sql`${replicas.id} = ${facts.replicaId ?? ''} desc`, desc(replicas.createdAt))
    .limit(1)
  if (!replica || replica.status === 'promoted') return null
  if (isActiveReplica(replica.status)) {
    return refuse('CONFLICT', 'standby replica: not promoted yet', {
      action: 'standby',
      replica_id: replica.id,
      retry_after_seconds: STANDBY_RETRY_SECONDS,
    })
  }
  return refuse('GONE', `replica ${replica.status}: it will never be promoted`, {
    action: 'replica_ended',
    replica_id: replica.id,
    replica_status: replica.status,
  })
}
