/**
 * A command that reached a final state, summarised once for whatever follows its end (a promotion's
 * failover time or retry, a replica termination handed over, an instance's end confirmed): the Durable
 * Object hands each finished command to these follow-ups. Pure.
 */
import type { CommandType } from '../protocol'
import type { QueuedCommand } from '../session/types'

export interface EndedCommand {
  commandId: string
  commandType: CommandType
  status: 'completed' | 'failed' | 'expired' | 'cancelled'
  message: string | null
  /** Server epoch ms. */
  finishedAt: number
  /** The instance it was reserved for (null: any instance of the agent). */
  instanceId: string | null
  /** The instance that claimed (ran) it, if any. */
  claimedBy: string | null
  priority: number
  payload: QueuedCommand['payload']
}

/** The command's end when it has one; null while it is open. */
export function endedCommand(c: QueuedCommand): EndedCommand | null {
  if (c.finishedAt === null) return null
  switch (c.status) {
    case 'completed':
    case 'failed':
    case 'expired':
    case 'cancelled':
      return {
        commandId: c.id,
        commandType: c.commandType,
        status: c.status,
        message: c.message,
        finishedAt: c.finishedAt,
        instanceId: c.instanceId,
        claimedBy: c.claimedBy,
        priority: c.priority,
        payload: c.payload,
      }
    case 'queued':
    case 'delivered':
    case 'acked':
    case 'running':
      return null
    default:
      return c.status satisfies never
  }
}

/**
 * The agent refused the command because the instance it names is not tagged as this workload's (or
 * that replica's): it called nothing on it, so EC2 holds what it held before. The agent reports
 * `Refused: i-... is not tagged as ...` (agent/src/actions/ownership.ts); its other refusals (retired,
 * an instance EC2 does not know) are not this one and keep their follow-ups.
 */
export function isRefusedAsNotOwned(ended: Pick<EndedCommand, 'status' | 'message'>): boolean {
  return ended.status === 'failed' && NOT_OWNED.test(ended.message ?? '')
}

const NOT_OWNED = /^Refused: \S+ is not tagged as /
