/**
 * A promotion someone asked for (the dashboard, or `POST replicas/:id/promote` of the agent API): the
 * replica becomes the primary and `promote_replica` makes EC2 follow. Asked again, the promotion
 * changes nothing but queues its command again (the dedupe key keeps one open at a time), so a command
 * that failed or expired can be retried. Installed agents have no such command: refused (CONFLICT), as
 * is a replica that cannot be promoted (promote.ts).
 */
import { findInstanceOfAgent } from '../../db/queries/instances'
import { understands } from '../tell'
import type { Database } from '../../db/client'
import type { Agent, Replica } from '../../db/schema'
import type { Env } from '../../env'
import { PRIORITY } from '../../protocol'
import { tellPromotion } from './commands'
import { endMootReplicas } from './moot'
import { promoteReplica, type Promotion } from './promote'
import { promotionSwitch } from './promotion-outcome'
import { refuse, type Refusal } from '../refusal'

export async function promoteByPerson(
  env: Env,
  db: Database,
  agent: Agent,
  replica: Replica,
  now: number,
): Promise<{ ok: true; promotion: Promotion; commandId: string | null } | Refusal> {
  const canTell = understands(agent, 'promote_replica')
  if (!canTell && replica.status !== 'promoted') {
    return refuse('CONFLICT', `agent version ${agent.agentVersion ?? 'unknown'} can't promote a replica`)
  }
  const promotion = await promoteReplica(
    db,
    agent,
    replica,
    { trigger: 'replica_promotion', initiatedAt: now, oldEndedAt: null },
    now,
  )
  if (!promotion.ok) return promotion
  if (promotion.changed && replica.mode === 'spot') {
    await endMootReplicas(
      env,
      db,
      agent,
      {
        keep: replica.id,
        primaryInstanceId: promotion.newInstanceId,
        primaryPoolId: replica.poolId,
        allLaunching: false,
        reason: "moot: in the primary's own pool",
      },
      now,
    )
  }
  if (!canTell) return { ok: true, promotion, commandId: null }
  // Repeated, the old primary is the one its switch recorded (the agent points at the replica already).
  const oldInstanceId = promotion.changed
    ? promotion.oldInstanceId
    : ((await promotionSwitch(db, agent, { ...replica, instanceId: promotion.newInstanceId }))
        ?.oldInstanceId ?? null)
  const old = oldInstanceId ? await findInstanceOfAgent(db, agent, oldInstanceId) : null
  const commandId = await tellPromotion(env, agent, replica, {
    newInstanceId: promotion.newInstanceId,
    oldInstanceId,
    oldPublicIp: old?.publicIp ?? null,
    notAfter: null,
    priority: PRIORITY.manual,
  })
  return { ok: true, promotion, commandId }
}
