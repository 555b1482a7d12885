/**
 * A switch command that ended without a switch: `failed` (the agent's switch failed and cleaned up, or
 * it refused, or its lease lapsed) or `expired` (no agent claimed it in time). The client is told once
 * per command (`switch_failed`, its id derived from the command: the object's follow-up may run
 * twice). A cancelled switch was someone's choice: nothing to tell.
 * Its write of `notifications` is flows/notifications.ts's.
 */
import { and, eq } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { agents } from '../../db/schema'
import { log } from '../../log'
import type { QueuedCommand } from '../../session/types'
import { endedCommand } from '../ended-command'
import { notifyClientOnce } from '../notifications'

export interface FailedSwitch {
  commandId: string
  status: 'failed' | 'expired'
  message: string | null
  /** Server epoch ms. */
  at: number
  instanceId: string | null
  /** Where it was to go, in words: a pool id or on-demand. */
  target: string
}

/** The switch command's failure when it ended so; null otherwise (open, completed, cancelled, another type). */
export function failedSwitchOf(c: QueuedCommand): FailedSwitch | null {
  if (c.wire.command_type !== 'switch') return null
  const ended = endedCommand(c)
  if (!ended || (ended.status !== 'failed' && ended.status !== 'expired')) return null
  return {
    commandId: ended.commandId,
    status: ended.status,
    message: ended.message,
    at: ended.finishedAt,
    instanceId: ended.instanceId,
    target: c.wire.target_mode === 'spot' ? (c.wire.target_pool_id ?? 'spot') : 'on-demand',
  }
}

/** The notification's id: one per switch command. */
export function switchFailedNotificationId(commandId: string): string {
  return `ntf_switch_failed_${commandId}`
}

/** Tells the client that the switch failed (once per command); errors are logged. */
export async function notifyFailedSwitch(
  db: Database,
  owner: { clientId: string; agentId: string },
  failed: FailedSwitch,
): Promise<void> {
  try {
    const [agent] = await db
      .select({ name: agents.logicalAgentId })
      .from(agents)
      .where(and(eq(agents.clientId, owner.clientId), eq(agents.id, owner.agentId)))
      .limit(1)
    const why =
      failed.status === 'expired'
        ? 'expired: no agent ran it'
        : `failed: ${failed.message ?? 'the agent gave no reason'}`
    await notifyClientOnce(db, switchFailedNotificationId(failed.commandId), {
      clientId: owner.clientId,
      agentId: owner.agentId,
      kind: 'switch_failed',
      severity: 'error',
      message: `${agent?.name ?? owner.agentId}: the switch of ${failed.instanceId ?? 'its instance'} to ${failed.target} ${why}; the workload stays where it was`,
      createdAt: failed.at,
    })
  } catch (err) {
    log.error({
      job: 'switch-failed',
      agent_id: owner.agentId,
      command_id: failed.commandId,
      message: (err as Error).message,
    })
  }
}
