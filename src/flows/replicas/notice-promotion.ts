/**
 * Promoting a replica for an interruption notice, whichever way the notice meets a usable replica:
 * the notice itself finds one (termination-imminent, first or repeated), or a replica launched for an
 * outstanding notice becomes usable (its real instance id arrives, or `syncing` / `ready`). The
 * control plane promotes at that first moment: waiting for `ready` (status checks take minutes on EC2)
 * would outlast the 2-minute notice, and the promotion's command waits for the instance to run
 * before it moves the address. One batch records it all: the promotion's switch, the notice's event
 * answered, the interrupted instance `terminating` until its real end (the notice's time), the
 * notification.
 */
import { findInstanceOfAgent } from '../../db/queries/instances'
import { understands } from '../tell'
import type { Database } from '../../db/client'
import { type Agent, type Replica } from '../../db/schema'
import type { Env } from '../../env'
import { PRIORITY } from '../../protocol'
import { tellPromotion } from './commands'
import { endMootReplicas } from './moot'
import { noticeEnd, outstandingNotice, type NoticeEvent } from './notice'
import { promoteReplica } from './promote'
import { rejoinReplacement } from './notice-drain'
import { endInterruptedInstance } from '../instances'
import { notifyClient } from '../notifications'
import { recordEvent, recordNoticeAnswer } from '../events'
import { setSwitchCommand } from '../switch/store'

export interface NoticePromotion {
  replicaId: string
  newInstanceId: string
  /** Notice received → promoted and its command completed; null until the command completes. */
  failoverMs: number | null
  commandId: string | null
}

/** A notice not stored yet (termination-imminent heard it just now) or its stored event. */
export type NoticeRecord = { stored: true; event: NoticeEvent } | { stored: false; event: NoticeEvent }

/** Promotes `replica` for the notice at server time `now` (the replica must be usable). */
export async function promoteForNotice(
  env: Env,
  db: Database,
  agent: Agent,
  notice: NoticeRecord,
  replica: Replica & { instanceId: string },
  now: number,
): Promise<NoticePromotion> {
  const event = notice.event
  const interrupted = event.instanceId
  const oldEndedAt = noticeEnd(event)
  const withCommand = understands(agent, 'promote_replica')
  // Without a command (installed agents) the promotion is all there is to do: failover ends now.
  const failoverMs = withCommand ? null : now - event.receivedAt
  const answered = {
    action: 'replica_promoted',
    replicaId: replica.id,
    newInstanceId: replica.instanceId,
    failoverMs,
  }
  const oldInstance = interrupted ? await findInstanceOfAgent(db, agent, interrupted) : null
  const promotion = await promoteReplica(
    db,
    agent,
    replica,
    { trigger: 'interruption', initiatedAt: event.receivedAt, oldEndedAt },
    now,
    [
      notice.stored ? recordNoticeAnswer(db, event.id, answered) : recordEvent(db, { ...event, ...answered }),
      ...(interrupted
        ? [endInterruptedInstance(db, agent, interrupted, replica.instanceId, oldEndedAt, now)]
        : []),
      notifyClient(db, {
        clientId: agent.clientId,
        agentId: agent.id,
        kind: 'interruption',
        severity: 'warning',
        message: promotedMessage(
          agent,
          interrupted,
          replica,
          withCommand,
          oldInstance?.publicIp ?? null,
          oldEndedAt,
        ),
        createdAt: now,
      }),
    ],
  )
  // Refusals depend on the replica alone, and a usable one (ready or syncing, with an instance) has none.
  if (!promotion.ok) throw new Error(`usable replica ${replica.id} refused: ${promotion.message}`)
  await endMootReplicas(
    env,
    db,
    agent,
    {
      keep: replica.id,
      primaryInstanceId: replica.instanceId,
      primaryPoolId: replica.mode === 'spot' ? replica.poolId : null,
      allLaunching: true,
      reason: `moot: replica ${replica.id} was promoted for the interruption of ${interrupted ?? 'the primary'}`,
    },
    now,
  )
  const commandId = await tellPromotion(env, agent, replica, {
    newInstanceId: replica.instanceId,
    oldInstanceId: interrupted,
    oldPublicIp: oldInstance?.publicIp ?? null,
    notAfter: event.terminationTime === null ? null : new Date(event.terminationTime).toISOString(),
    priority: PRIORITY.emergency,
  })
  if (commandId && promotion.switchId) {
    await setSwitchCommand(db, promotion.switchId, commandId)
  }
  // The interrupted instance's drain may have reported its target groups before this promotion.
  if (interrupted) await rejoinReplacement(env, db, agent, interrupted)
  return { replicaId: replica.id, newInstanceId: replica.instanceId, failoverMs, commandId }
}

/**
 * A replica that just became usable (its real instance id, `syncing` or `ready`) is promoted when a
 * notice of its agent is still outstanding; null when there is none.
 */
export async function promoteIfNoticeOutstanding(
  env: Env,
  db: Database,
  agent: Agent,
  replica: Replica,
  now: number,
): Promise<NoticePromotion | null> {
  if (!isUsable(replica)) return null
  const event = await outstandingNotice(db, agent, now)
  if (!event) return null
  return promoteForNotice(env, db, agent, { stored: true, event }, replica, now)
}

/** A replica that can take over: a real instance, launched (`syncing`) or ready. */
export function isUsable(replica: Replica): replica is Replica & { instanceId: string } {
  return replica.instanceId !== null && (replica.status === 'ready' || replica.status === 'syncing')
}

/**
 * What the client is told, once. Without a command (installed agents) the address stays where it is:
 * EC2 keeps an Elastic IP on the interrupted instance until it ends, then on no instance; the row of
 * that instance keeps naming it until then, and no running row names it after (instances.public_ip).
 */
function promotedMessage(
  agent: Agent,
  interrupted: string | null,
  replica: Replica & { instanceId: string },
  withCommand: boolean,
  publicIp: string | null,
  oldEndsAt: number,
): string {
  const where = `${replica.instanceId} (${replica.mode === 'spot' ? replica.poolId : `on-demand in ${replica.az}`})`
  const stays =
    `agent ${agent.agentVersion ?? '(unknown version)'} can't move the Elastic IP: ${publicIp ?? 'its address'} ` +
    `stays on ${interrupted ?? 'the interrupted instance'} until EC2 ends it (${new Date(oldEndsAt).toISOString()}), ` +
    `then is associated with no instance: associate it with ${replica.instanceId} in EC2`
  const address = withCommand
    ? publicIp
      ? `its address ${publicIp} follows if it is an Elastic IP`
      : 'it had no public address to move'
    : stays
  return `${agent.logicalAgentId}: spot interruption of ${interrupted ?? 'the primary'}; ${where} promoted to primary, ${address}`
}
