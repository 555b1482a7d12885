/**
 * State moves of one command asked for by an agent (claim, running, result) or by the agent's
 * lifecycle (registered from a new instance, deleted), as pure functions.
 */
import type { CommandType } from '../protocol'
import { finish, isOpen, isUnclaimed, leaseUntil, LEGACY_CLAIM } from './queue'
import type { QueuedCommand } from './types'

/** Outcome of a state move asked for by an agent. */
export type Move =
  | { kind: 'changed'; command: QueuedCommand }
  | { kind: 'unchanged'; command: QueuedCommand }
  | { kind: 'refused'; command: QueuedCommand; reason: string }

/** The new agent claims a command from an instance; only the first claim wins, a repeat is a no-op. */
export function ack(command: QueuedCommand, instanceId: string, now: number): Move {
  if (command.claimedBy === instanceId) return { kind: 'unchanged', command }
  if (!isUnclaimed(command))
    return { kind: 'refused', command, reason: `command is ${command.status} elsewhere or done` }
  if (command.expiresAt <= now) return { kind: 'refused', command, reason: 'command expired' }
  if (command.instanceId !== null && command.instanceId !== instanceId) {
    return { kind: 'refused', command, reason: `command is for instance ${command.instanceId}` }
  }
  return {
    kind: 'changed',
    command: {
      ...command,
      status: 'acked',
      claimedBy: instanceId,
      claimedOn: instanceId,
      deliveredAt: command.deliveredAt ?? now,
      ackedAt: now,
      leaseUntil: leaseUntil(command, instanceId, now),
      updatedAt: now,
    },
  }
}

/**
 * The claimer started running it, or reports a step of it (`step`: what it just did): either renews the
 * lease, so a long command (a switch waiting for its AMI) is not failed while it makes progress.
 */
export function markRunning(
  command: QueuedCommand,
  instanceId: string,
  step: string | null,
  now: number,
): Move {
  if (command.claimedBy !== instanceId)
    return { kind: 'refused', command, reason: 'command not claimed by this instance' }
  if (command.status !== 'acked' && command.status !== 'running')
    return { kind: 'refused', command, reason: `command is ${command.status}` }
  return {
    kind: 'changed',
    command: {
      ...command,
      status: 'running',
      startedAt: command.startedAt ?? now,
      leaseUntil: leaseUntil(command, instanceId, now),
      message: step ?? command.message,
      updatedAt: now,
    },
  }
}

/**
 * The result of a command (`executed`): success → completed, else failed. A repeat changes nothing;
 * an expired or cancelled command never ran, and a command claimed by another instance isn't this
 * reporter's (`instanceId` null: a legacy reporter, which can't say).
 */
export function report(
  command: QueuedCommand,
  success: boolean,
  message: string | null,
  instanceId: string | null,
  now: number,
): Move {
  if (command.status === 'completed' || command.status === 'failed') return { kind: 'unchanged', command }
  if (command.status === 'expired' || command.status === 'cancelled') {
    return { kind: 'refused', command, reason: `command is ${command.status}` }
  }
  if (
    instanceId !== null &&
    command.claimedBy !== null &&
    command.claimedBy !== LEGACY_CLAIM &&
    command.claimedBy !== instanceId
  ) {
    return { kind: 'refused', command, reason: 'command claimed by another instance' }
  }
  return { kind: 'changed', command: finish(command, success ? 'completed' : 'failed', message, now) }
}

/**
 * The agent registered from `instanceId`: each claimed switch that started on another instance is
 * done (the installed agent may terminate its old host before it can report).
 */
export function completeSwitches(
  commands: readonly QueuedCommand[],
  instanceId: string,
  now: number,
): QueuedCommand[] {
  return commands
    .filter(
      (c) =>
        c.commandType === 'switch' &&
        isOpen(c) &&
        c.claimedBy !== null &&
        c.claimedOn !== null &&
        c.claimedOn !== instanceId,
    )
    .map((c) => finish(c, 'completed', `agent registered from new instance ${instanceId}`, now))
}

/** Open commands moved to `cancelled` (the agent is gone), except the types in `keep`. */
export function cancelAll(
  commands: readonly QueuedCommand[],
  now: number,
  keep: readonly CommandType[] = [],
): QueuedCommand[] {
  return commands
    .filter((c) => isOpen(c) && !keep.includes(c.commandType))
    .map((c) => finish(c, 'cancelled', 'agent deleted', now))
}
