/** Commands that make EC2 follow a replica decision (for agents whose version understands them). */
import type { Agent, Replica } from '../../db/schema'
import type { Env } from '../../env'
import { tellAgent, understands } from '../tell'
import { isLegacyAgent, PRIORITY } from '../../protocol'

/** What any claimer of `promote_replica` needs to finish it, even after the old host died. */
export interface PromotionOrder {
  newInstanceId: string
  oldInstanceId: string | null
  /** The old primary's public IP: its Elastic IP, if it is one, follows to the replica. */
  oldPublicIp: string | null
  /** The old primary's interruption time as its agent sent it (that agent's clock), ISO. */
  notAfter: string | null
  priority: number
  /** Only this instance may claim it (null: whichever instance of the agent claims first). */
  claimableBy?: string | null
}

/**
 * Queues `promote_replica`; the command id (an open one with the same key is returned as is, so a
 * repeated promotion re-queues it only once the previous one ended), or null when the agent can't
 * take it.
 */
export async function tellPromotion(env: Env, agent: Agent, replica: Replica, order: PromotionOrder) {
  if (!understands(agent, 'promote_replica')) return null
  const result = await tellAgent(env, agent, {
    instanceId: order.claimableBy ?? null,
    commandType: 'promote_replica',
    priority: order.priority,
    payload: {
      replica_id: replica.id,
      replica_instance_id: order.newInstanceId,
      old_instance_id: order.oldInstanceId,
      old_public_ip: order.oldPublicIp,
      not_after: order.notAfter,
    },
    source: order.priority === PRIORITY.emergency ? 'emergency' : 'manual',
    dedupeKey: `promote_replica:${replica.id}`,
  })
  return result.ok || result.reason === 'duplicate' ? result.commandId : null
}

/**
 * Queues `terminate_replica` for an ended replica's instance, reserved for the instance that runs the
 * workload (`primaryInstanceId`, the agent's by default): an agent that just stepped down (a promotion,
 * a switch) claimed it otherwise and refused it as retired, and the instance ran on untracked.
 */
export async function tellReplicaTermination(
  env: Env,
  agent: Agent,
  replica: Replica,
  primaryInstanceId: string | null = agent.instanceId,
) {
  if (!understands(agent, 'terminate_replica')) return null
  const result = await tellAgent(env, agent, {
    instanceId: primaryInstanceId,
    commandType: 'terminate_replica',
    priority: PRIORITY.manual,
    payload: { replica_id: replica.id, replica_instance_id: replica.instanceId },
    source: 'manual',
    dedupeKey: `terminate_replica:${replica.id}`,
  })
  return result.ok || result.reason === 'duplicate' ? result.commandId : null
}

/** Queues `create_replica` so a connected new agent launches at once (legacy agents poll the list). */
export async function tellReplicaLaunch(env: Env, agent: Agent, replica: Replica) {
  // A 4.x agent would launch it twice: once for the command, once from its `launching` poll.
  if (isLegacyAgent(agent.agentVersion)) return null
  const result = await tellAgent(env, agent, {
    instanceId: null,
    commandType: 'create_replica',
    targetMode: replica.mode,
    targetPoolId: replica.poolId,
    priority: PRIORITY.emergency,
    payload: { replica_id: replica.id },
    source: 'emergency',
    dedupeKey: `create_replica:${replica.id}`,
  })
  return result.ok || result.reason === 'duplicate' ? result.commandId : null
}
