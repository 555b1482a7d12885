/**
 * Every change of an instance's row: registered, taken over by a switch or a promotion, its facts and
 * Elastic IP, its end (now, at an interruption's time, or `terminating` until someone confirms it), and
 * the end of the instances whose announced end has come (db/queries/instance-status.ts says when).
 * Functions that return a statement leave it unexecuted: a caller whose change must land with others
 * puts it in its `db.batch([...])` (D1 has no transactions), one alone awaits it.
 * Writes: `instances`.
 */
import { and, eq, gte, isNull, lte, ne, or, sql, type SQL } from 'drizzle-orm'
import type { Database } from '../db/client'
import { instances, type Agent, type Instance, type MODES } from '../db/schema'
import { endingStatus } from '../db/queries/instance-status'
import { newId } from '../ids'

type Owner = { clientId: string; agentId: string }

/** Rows an end may still be written on: running, or terminating without an announced end. */
export const notEndedYet = or(
  eq(instances.status, 'active'),
  and(eq(instances.status, 'terminating'), isNull(instances.terminatedAt)),
)

function ofAgent(owner: Owner, instanceId: string) {
  return and(
    eq(instances.clientId, owner.clientId),
    eq(instances.agentId, owner.agentId),
    eq(instances.instanceId, instanceId),
  )
}

/** What a registration says of the registering instance. */
export interface RegisteredInstanceFacts {
  clientId: string
  instanceId: string
  instanceType: string | null
  region: string | null
  az: string | null
  amiId: string | null
  mode: (typeof MODES)[number]
  privateIp: string | null
  publicIp: string | null
}

/**
 * The registering instance, active under the agent `agentId` selects (a subquery on the identity, so a
 * concurrent first registration still lands on one agent row).
 */
export function upsertRegisteredInstance(
  db: Database,
  facts: RegisteredInstanceFacts,
  agentId: SQL,
  now: number,
) {
  const instanceFacts = {
    agentId,
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
    // An instance EC2 is ending (an interruption nothing replaced) runs until then: an agent restarted
    // on it changes nothing of that.
    status: sql`case when ${instances.status} = 'terminating' then 'terminating' else 'active' end`,
    terminatedAt: sql`case when ${instances.status} = 'terminating' then ${instances.terminatedAt} else null end`,
  }
  return db
    .insert(instances)
    .values({
      id: newId('ins'),
      clientId: facts.clientId,
      instanceId: facts.instanceId,
      createdAt: now,
      ...instanceFacts,
    })
    .onConflictDoUpdate({ target: [instances.clientId, instances.instanceId], set: instanceUpdate })
}

/** The facts of an instance the workload moved onto (a switch's new instance, a promoted replica). */
export type TakenOverFacts = Pick<
  Instance,
  'agentId' | 'instanceType' | 'region' | 'az' | 'mode' | 'poolId'
> &
  Partial<Pick<Instance, 'amiId' | 'publicIp'>>

/** The instance the workload runs on now: active, under the agent, whatever it was before. */
export function upsertTakenOverInstance(
  db: Database,
  clientId: string,
  instanceId: string,
  facts: TakenOverFacts,
  now: number,
) {
  const set = { ...facts, status: 'active' as const, updatedAt: now, terminatedAt: null }
  return db
    .insert(instances)
    .values({ id: newId('ins'), clientId, instanceId, createdAt: now, ...set })
    .onConflictDoUpdate({ target: [instances.clientId, instances.instanceId], set })
}

/**
 * A promotion the agent refused never moved the workload onto `instanceId`: the row the promotion
 * created for it (at or after `since`, the switch's receipt) goes; an older row stays as it was.
 */
export function dropRefusedInstance(db: Database, owner: Owner, instanceId: string, since: number) {
  return db.delete(instances).where(and(ofAgent(owner, instanceId), gte(instances.createdAt, since)))
}

/**
 * The old primary of a refused promotion runs the workload still: active again, unless its end is
 * announced (an interruption: EC2 ends it at that time whatever the promotion did).
 */
export function reinstateInstance(db: Database, owner: Owner, instanceId: string, now: number) {
  return db
    .update(instances)
    .set({ status: 'active', updatedAt: now })
    .where(
      and(ofAgent(owner, instanceId), eq(instances.status, 'terminating'), isNull(instances.terminatedAt)),
    )
}

/** Instance facts a heartbeat reported changed. */
export function recordHeartbeatFacts(
  db: Database,
  owner: Owner,
  instanceId: string,
  facts: Partial<Pick<Instance, 'instanceType' | 'mode' | 'az'>>,
  now: number,
) {
  return db
    .update(instances)
    .set({ ...facts, updatedAt: now })
    .where(ofAgent(owner, instanceId))
}

/**
 * The workload's Elastic IP is on this instance now (a switch or a promotion moved it there, after the
 * instance registered with its own IP): a later promotion names it as the address to follow.
 */
export function recordPublicIp(
  db: Database,
  agent: Agent,
  instanceId: string,
  publicIp: string,
  now: number,
) {
  return db
    .update(instances)
    .set({ publicIp, updatedAt: now })
    .where(ofAgent({ clientId: agent.clientId, agentId: agent.id }, instanceId))
}

/** The agent says this active instance (row id) is gone: terminated now. */
export function endGoneInstance(db: Database, rowId: string, now: number) {
  return db
    .update(instances)
    .set({ status: 'terminated', terminatedAt: now, updatedAt: now })
    .where(and(eq(instances.id, rowId), eq(instances.status, 'active')))
}

/** A switch's old instance ends at `endedAt` (`terminating` until then), unless already ended. */
export function endSwitchedAwayInstance(
  db: Database,
  agent: Agent,
  instanceId: string,
  endedAt: number,
  now: number,
) {
  return db
    .update(instances)
    .set({ status: endingStatus(endedAt, now), terminatedAt: endedAt, updatedAt: now })
    .where(and(eq(instances.clientId, agent.clientId), eq(instances.instanceId, instanceId), notEndedYet))
}

/** The old instance is being terminated by its own agent: `terminating` until someone confirms it. */
export function markTerminating(db: Database, agent: Agent, instanceId: string, now: number) {
  return db
    .update(instances)
    .set({ status: 'terminating', updatedAt: now })
    .where(
      and(
        ofAgent({ clientId: agent.clientId, agentId: agent.id }, instanceId),
        eq(instances.status, 'active'),
      ),
    )
}

/** A `terminate_instance` confirmed the instance gone at `at` (server epoch ms). */
export function endConfirmedInstance(db: Database, owner: Owner, instanceId: string, at: number) {
  return db
    .update(instances)
    .set({ status: 'terminated', terminatedAt: at, updatedAt: at })
    .where(and(ofAgent(owner, instanceId), notEndedYet))
}

/** The interrupted instance a promoted replica (`keep`) replaced ends at the notice's time. */
export function endInterruptedInstance(
  db: Database,
  agent: Agent,
  instanceId: string,
  keep: string,
  endedAt: number,
  now: number,
) {
  return db
    .update(instances)
    .set({ status: endingStatus(endedAt, now), terminatedAt: endedAt, updatedAt: now })
    .where(
      and(
        ofAgent({ clientId: agent.clientId, agentId: agent.id }, instanceId),
        ne(instances.instanceId, keep),
      ),
    )
}

/** An interrupted instance nothing replaced: AWS reclaims it at the notice's time whatever happens. */
export function endUnreplacedInstance(
  db: Database,
  agent: Agent,
  instanceId: string,
  endedAt: number,
  now: number,
) {
  return db
    .update(instances)
    .set({ status: endingStatus(endedAt, now), terminatedAt: endedAt, updatedAt: now })
    .where(
      and(
        ofAgent({ clientId: agent.clientId, agentId: agent.id }, instanceId),
        eq(instances.status, 'active'),
      ),
    )
}

/** Writes `terminated` on every terminating row whose time has come; answers how many. */
export async function settleEndedInstances(db: Database, now: number): Promise<{ settled: number }> {
  const rows = await db
    .update(instances)
    .set({ status: 'terminated', updatedAt: now })
    .where(and(eq(instances.status, 'terminating'), lte(instances.terminatedAt, now)))
    .returning({ id: instances.id })
  return { settled: rows.length }
}
