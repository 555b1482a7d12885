/** Commands that make EC2 follow a replica decision (for agents whose version understands them). */
import type { Agent, Replica } from '../db/schema'
import type { Env } from '../env'
import { tellAgent, understands } from '../agents/tell'
import { isLegacyAgent, PRIORITY } from '../protocol'

/** Queues `promote_replica`; the command id, or null when the agent can't take it or it wasn't queued. */
export async function tellPromotion(
  env: Env,
  agent: Agent,
  replica: Replica,
  newInstanceId: string,
  priority: number,
) {
  if (!understands(agent, 'promote_replica')) return null
  const result = await tellAgent(env, agent, {
    instanceId: null,
    commandType: 'promote_replica',
    priority,
    payload: { replica_id: replica.id, replica_instance_id: newInstanceId },
    source: priority === PRIORITY.emergency ? 'emergency' : 'manual',
    dedupeKey: `promote_replica:${replica.id}`,
  })
  return result.ok || result.reason === 'duplicate' ? result.commandId : null
}

/** Queues `terminate_replica` for an ended replica's instance. */
export async function tellReplicaTermination(env: Env, agent: Agent, replica: Replica) {
  if (!understands(agent, 'terminate_replica')) return null
  const result = await tellAgent(env, agent, {
    instanceId: null,
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
    targetMode: 'spot',
    targetPoolId: replica.poolId,
    priority: PRIORITY.emergency,
    payload: { replica_id: replica.id },
    source: 'emergency',
    dedupeKey: `create_replica:${replica.id}`,
  })
  return result.ok || result.reason === 'duplicate' ? result.commandId : null
}
