/**
 * A promotion the agent refused (the replica's instance is not tagged as its replica: a token holder
 * recorded someone else's instance) never happened in EC2, so the records the promotion wrote at once
 * are undone together: the agent's primary is the old instance again (active again unless its end is
 * announced), the row the promotion created for the replica's instance goes, the replica is `failed`
 * with the refusal (`ready` again when the refusal named another instance: the address's holder), the
 * switch is undone (history shows it so, the ledger ignores it), and a notification says why. Not
 * handed to another agent: the one that refused runs the workload.
 */
import type { Database } from '../../db/client'
import type { Agent, Replica, Switch } from '../../db/schema'
import { moveAgentBack } from '../agents'
import { followAgent } from '../ledger/follow'
import type { EndedCommand } from '../ended-command'
import { dropRefusedInstance, reinstateInstance } from '../instances'
import { notifyClient } from '../notifications'
import { undoSwitch } from '../switch/store'
import { refusedReplicaUpdate } from './store'

/** Undoes `sw` (the promotion's switch, if found) and the records it changed, at the command's end. */
export async function undoRefusedPromotion(
  db: Database,
  agent: Agent,
  replica: Replica & { instanceId: string },
  sw: Switch | null,
  ended: EndedCommand,
): Promise<void> {
  const now = ended.finishedAt
  const owner = { clientId: agent.clientId, agentId: agent.id }
  const reason = `promotion command ${ended.commandId} refused by the agent: ${ended.message}`
  const old = sw?.oldInstanceId ?? null
  const namesReplica = (ended.message ?? '').startsWith(`Refused: ${replica.instanceId} `)
  await db.batch([
    refusedReplicaUpdate(db, replica, namesReplica ? 'failed' : 'ready', reason, now),
    ...(sw
      ? [
          undoSwitch(db, sw.id, reason, now),
          dropRefusedInstance(db, owner, replica.instanceId, sw.receivedAt),
        ]
      : []),
    ...(old
      ? [moveAgentBack(db, agent.id, replica.instanceId, old, now), reinstateInstance(db, owner, old, now)]
      : []),
    notifyClient(db, {
      clientId: agent.clientId,
      agentId: agent.id,
      kind: 'switch_failed',
      severity: 'error',
      message: `${agent.logicalAgentId}: the agent refused to promote replica ${replica.id} (${ended.message}); the workload stays on ${old ?? 'its instance'} and the promotion is undone`,
      createdAt: now,
    }),
  ])
  await followAgent(db, agent.clientId, agent.id, now)
}
