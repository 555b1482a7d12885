/**
 * The agent's live command queue as pure functions over command records (no storage, time passed in).
 * The Durable Object loads records, calls these, and saves the records they return as changed.
 *
 * At most once: a command is run only by whoever claimed it. A legacy poller (no instance id) claims by
 * being handed the command (a delivery lease: handed out once, never again); the new agent claims with
 * `ack` from its instance, and only one ack wins. Delivery alone claims nothing for the new agent, so an
 * unacknowledged command is handed out again (reconnect, next poll) to the instance it is for.
 * The moves agents ask for (ack, running, executed) are in moves.ts.
 */
import { Command, commandTypesFor, type CommandStatus, type CommandType } from '../protocol'
import type { NewCommand, QueuedCommand } from './types'

/** `claimedBy` of a command handed to a legacy poller (it sends no instance id). */
export const LEGACY_CLAIM = 'legacy-poller'

/** How long a command may wait to be claimed, by type (a switch nobody picked up in 30 min is stale). */
export const EXPIRES_AFTER_MS: Record<CommandType, number> = {
  switch: 30 * 60_000,
  create_replica: 30 * 60_000,
  promote_replica: 10 * 60_000,
  terminate_replica: 60 * 60_000,
  terminate_instance: 24 * 60 * 60_000,
  cleanup: 24 * 60 * 60_000,
  uninstall: 24 * 60 * 60_000,
  register_targets: 60 * 60_000,
}

/**
 * How long a claimed command may go without news before it counts as failed (no result arrived), by
 * type. Each step the agent reports (`running` with a step) renews it, so it only has to outlast the
 * longest single step: for a switch, the wait for its AMI (up to 60 minutes).
 */
export const LEASE_MS: Record<CommandType, number> = {
  switch: 75 * 60_000,
  create_replica: 30 * 60_000,
  promote_replica: 30 * 60_000,
  terminate_replica: 30 * 60_000,
  terminate_instance: 30 * 60_000,
  cleanup: 60 * 60_000,
  uninstall: 30 * 60_000,
  register_targets: 30 * 60_000,
}

/** How long after its notice's time an interrupted host's claim may still report (clocks differ a little). */
export const NOTICE_GRACE_MS = 15_000

/**
 * When a claim by `instanceId` lapses without news. A promotion run by the interrupted old primary
 * lapses soon after its notice's time (`not_after`): the host and any result it had not sent end there,
 * and the lapse is what hands the command to the promoted instance's own agent (promotion-outcome.ts).
 */
export function leaseUntil(command: QueuedCommand, instanceId: string, now: number): number {
  const lease = now + LEASE_MS[command.commandType]
  if (command.commandType !== 'promote_replica') return lease
  const { not_after: notAfter, replica_instance_id: replicaInstanceId } = command.payload ?? {}
  if (typeof notAfter !== 'string' || instanceId === replicaInstanceId) return lease
  const hostEnds = Date.parse(notAfter) + NOTICE_GRACE_MS
  return Number.isFinite(hostEnds) ? Math.min(lease, Math.max(now, hostEnds)) : lease
}

const OPEN: readonly CommandStatus[] = ['queued', 'delivered', 'acked', 'running']

/** Not finished: blocks a duplicate, may still run. */
export function isOpen(command: QueuedCommand): boolean {
  return OPEN.includes(command.status)
}

/** Waiting for someone to claim it. */
export function isUnclaimed(command: QueuedCommand): boolean {
  return (command.status === 'queued' || command.status === 'delivered') && command.claimedBy === null
}

/** Highest priority first, then oldest (then id, so the order is total). */
export function byPriority(a: QueuedCommand, b: QueuedCommand): number {
  return b.priority - a.priority || a.createdAt - b.createdAt || a.id.localeCompare(b.id)
}

/** A new queued command, or why it can't be sent to this agent. */
export function createCommand(
  input: NewCommand,
  id: string,
  now: number,
): { ok: true; command: QueuedCommand } | { ok: false; message: string } {
  if (!commandTypesFor(input.agentVersion).includes(input.commandType)) {
    return {
      ok: false,
      message: `agent ${input.agentVersion ?? '(unknown version)'} can't run ${input.commandType}`,
    }
  }
  const expiresAt = now + (input.expiresInSeconds ?? EXPIRES_AFTER_MS[input.commandType] / 1000) * 1000
  const wire = Command.safeParse({
    ...input.payload,
    id,
    command_type: input.commandType,
    instance_id: input.instanceId,
    priority: input.priority,
    created_at: new Date(now).toISOString(),
    expires_at: new Date(expiresAt).toISOString(),
    target_mode: input.targetMode ?? (input.commandType === 'create_replica' ? 'spot' : undefined),
    target_pool_id: input.targetPoolId ?? input.payload?.target_pool_id ?? null,
    terminate_wait_seconds: input.terminateWaitSeconds ?? null,
  })
  if (!wire.success) {
    const fields = wire.error.issues.map((i) => i.path.join('.')).join(', ')
    return { ok: false, message: `incomplete ${input.commandType} command: ${fields}` }
  }
  return {
    ok: true,
    command: {
      id,
      commandType: input.commandType,
      instanceId: input.instanceId,
      priority: input.priority,
      createdAt: now,
      expiresAt,
      status: 'queued',
      dedupeKey: input.dedupeKey ?? null,
      source: input.source,
      wire: wire.data,
      payload: input.payload ?? null,
      claimedBy: null,
      claimedOn: null,
      leaseUntil: null,
      deliveredAt: null,
      ackedAt: null,
      startedAt: null,
      finishedAt: null,
      message: null,
      updatedAt: now,
    },
  }
}

/** The open command holding a dedupe key, if any. */
export function findDuplicate(
  commands: readonly QueuedCommand[],
  key: string | undefined,
): QueuedCommand | null {
  if (key === undefined) return null
  return commands.find((c) => isOpen(c) && c.dedupeKey === key) ?? null
}

/** Unclaimed commands past their expiry, moved to `expired`. */
export function expireStale(commands: readonly QueuedCommand[], now: number): QueuedCommand[] {
  return commands
    .filter((c) => isUnclaimed(c) && c.expiresAt <= now)
    .map((c) => finish(c, 'expired', 'not claimed before it expired', now))
}

/** Claimed commands whose lease ended without a result, moved to `failed`. */
export function releaseLapsedLeases(commands: readonly QueuedCommand[], now: number): QueuedCommand[] {
  return commands
    .filter((c) => isOpen(c) && c.claimedBy !== null && c.leaseUntil !== null && c.leaseUntil <= now)
    .map((c) => finish(c, 'failed', 'no result before the lease ended', now))
}

/** Open commands split into those still open and those that just expired or whose lease lapsed. */
export function settle(
  open: readonly QueuedCommand[],
  now: number,
): { open: QueuedCommand[]; finished: QueuedCommand[] } {
  const finished = [...expireStale(open, now), ...releaseLapsedLeases(open, now)]
  const gone = new Set(finished.map((c) => c.id))
  return { open: open.filter((c) => !gone.has(c.id)), finished }
}

/**
 * A legacy poll: the single most urgent command it understands, handed out once (the installed agent
 * runs at most one command per poll). `currentInstanceId` is the instance the agent record is bound to:
 * a command for another instance is never leased through this poll, which says nothing of who asks.
 */
export function pollAsLegacy(
  commands: readonly QueuedCommand[],
  agentVersion: string | null,
  currentInstanceId: string | null,
  now: number,
): QueuedCommand | null {
  const types = commandTypesFor(agentVersion)
  const [next] = commands
    .filter(
      (c) =>
        isUnclaimed(c) &&
        c.expiresAt > now &&
        types.includes(c.commandType) &&
        (c.instanceId === null || c.instanceId === currentInstanceId),
    )
    .sort(byPriority)
  if (!next) return null
  return {
    ...next,
    status: 'delivered',
    claimedBy: LEGACY_CLAIM,
    claimedOn: next.instanceId ?? currentInstanceId,
    deliveredAt: next.deliveredAt ?? now,
    leaseUntil: leaseUntil(next, LEGACY_CLAIM, now),
    updatedAt: now,
  }
}

/**
 * What an instance of the new agent may claim, in order, each marked delivered (`changed`: those
 * delivered for the first time). Commands for another instance are not handed to it; the same
 * command is handed again until it is acked.
 */
export function pollAsInstance(
  commands: readonly QueuedCommand[],
  instanceId: string,
  agentVersion: string | null,
  now: number,
): { handed: QueuedCommand[]; changed: QueuedCommand[] } {
  const types = commandTypesFor(agentVersion)
  // A command this instance claimed but never started is handed out again: the claim's answer may have
  // been lost (a restart between claim and reply); its repeated claim is a no-op.
  const isOurs = (c: QueuedCommand) =>
    (isUnclaimed(c) && c.expiresAt > now) || (c.status === 'acked' && c.claimedBy === instanceId)
  const claimable = commands
    .filter(
      (c) =>
        isOurs(c) && types.includes(c.commandType) && (c.instanceId === null || c.instanceId === instanceId),
    )
    .sort(byPriority)
  return {
    handed: claimable.map((c) => delivered(c, now)),
    changed: claimable.filter((c) => c.status === 'queued').map((c) => delivered(c, now)),
  }
}

/** A queued command that reached an agent (pushed or polled), still unclaimed. */
export function delivered(command: QueuedCommand, now: number): QueuedCommand {
  if (command.status !== 'queued') return command
  return { ...command, status: 'delivered', deliveredAt: now, updatedAt: now }
}

/** Earliest time something in the queue falls due (an expiry or a lease), epoch ms. */
export function nextQueueDue(commands: readonly QueuedCommand[]): number | null {
  let due: number | null = null
  for (const c of commands) {
    const at = isUnclaimed(c) ? c.expiresAt : isOpen(c) ? c.leaseUntil : null
    if (at !== null && (due === null || at < due)) due = at
  }
  return due
}

/** The command moved to a final state at `now`. */
export function finish(
  command: QueuedCommand,
  status: CommandStatus,
  message: string | null,
  now: number,
): QueuedCommand {
  return { ...command, status, message, finishedAt: now, leaseUntil: null, updatedAt: now }
}
