/**
 * An agent's liveness as pure functions: heartbeats (HTTP or socket) are absorbed here, and only a
 * change (status, instance facts), a periodic refresh, or 120 s of silence produce a D1 write or a
 * notification. A socket's automatic pings count as signs of life too (`withPings`): they never wake
 * the object, so they are read from the runtime when the object is awake anyway.
 */
import type { Mode } from '../protocol'

/** Silence after which an agent is offline, ms. */
export const OFFLINE_AFTER_MS = 120_000
/** At most this often an unchanged agent's `last_heartbeat_at` is written to D1, ms. */
export const REFRESH_AFTER_MS = 5 * 60_000

export type LiveStatus = 'online' | 'disabled' | 'offline'

/** What a heartbeat says about the instance; null means "not known, keep the old value". */
export interface InstanceFacts {
  instanceId: string | null
  instanceType: string | null
  mode: Mode | 'unknown' | null
  az: string | null
}

export interface Liveness {
  /** Null before the object heard anything. */
  status: LiveStatus | null
  /** Server receive time of the last sign of life, epoch ms. */
  lastSeenAt: number | null
  /** When D1 last got the agent's status and last heartbeat, epoch ms. */
  writtenAt: number | null
  facts: InstanceFacts
}

export interface Heartbeat extends InstanceFacts {
  status: LiveStatus
}

/** D1 writes and the notification a liveness step calls for. */
export interface LivenessStep {
  next: Liveness
  /** Agent row update (status, last heartbeat) and the instance facts that changed; null: no write. */
  write: { status: LiveStatus; lastHeartbeatAt: number; facts: Partial<InstanceFacts> | null } | null
  notify: 'offline' | 'online' | null
}

/** A liveness write waiting for D1 (kept in the object until D1 has it: the alarm retries it). */
export interface PendingLivenessWrite {
  write: LivenessStep['write']
  notify: LivenessStep['notify']
  /** When the step happened, epoch ms: the row's `updated_at` and the notification's time. */
  at: number
  /** The notification's id, fixed once so a retry of a write that did land adds no second one. */
  notificationId: string
}

export const UNKNOWN_LIVENESS: Liveness = {
  status: null,
  lastSeenAt: null,
  writtenAt: null,
  facts: { instanceId: null, instanceType: null, mode: null, az: null },
}

/** A heartbeat received at `now`. */
export function applyHeartbeat(state: Liveness, heartbeat: Heartbeat, now: number): LivenessStep {
  const facts = mergeFacts(state.facts, heartbeat)
  const changed = changedFacts(state.facts, facts)
  const notify = transition(state.status, heartbeat.status)
  const isDue =
    heartbeat.status !== state.status ||
    changed !== null ||
    state.writtenAt === null ||
    now - state.writtenAt >= REFRESH_AFTER_MS
  return {
    next: { status: heartbeat.status, lastSeenAt: now, writtenAt: isDue ? now : state.writtenAt, facts },
    write: isDue ? { status: heartbeat.status, lastHeartbeatAt: now, facts: changed } : null,
    notify,
  }
}

/**
 * The agent registered at `now` from `instanceId`. The register route writes a new agent as online but
 * leaves an existing row's status alone: after the agent's own `offline` heartbeat (a restart), or
 * when the object knew nothing, D1 is told `online` at once; a comeback from offline is news.
 */
export function applyRegistration(state: Liveness, instanceId: string, now: number): LivenessStep {
  const isWritten = state.status !== 'online'
  return {
    next: {
      status: 'online',
      lastSeenAt: now,
      writtenAt: isWritten ? now : state.writtenAt,
      facts: { ...state.facts, instanceId },
    },
    write: isWritten ? { status: 'online', lastHeartbeatAt: now, facts: null } : null,
    notify: transition(state.status, 'online'),
  }
}

/**
 * The state with the newest sign of life its sockets heard (`heardAt`, epoch ms: an automatic ping, or
 * a socket heartbeat that changed nothing and was kept on the socket) as its last one. It keeps an
 * online or disabled agent so; it never brings back an offline one (an agent that said `offline` may
 * ping until its socket closes): a heartbeat that says so, or a registration, does.
 */
export function withPings(state: Liveness, heardAt: number | null): Liveness {
  if (heardAt === null || state.status === null || state.status === 'offline') return state
  if (state.lastSeenAt !== null && state.lastSeenAt >= heardAt) return state
  return { ...state, lastSeenAt: heardAt }
}

/** The alarm's check: an agent silent for OFFLINE_AFTER_MS goes offline (once). */
export function checkSilence(state: Liveness, now: number): LivenessStep {
  const deadline = livenessDeadline(state)
  if (deadline === null || now < deadline || state.lastSeenAt === null)
    return { next: state, write: null, notify: null }
  return {
    next: { ...state, status: 'offline', writtenAt: now },
    write: { status: 'offline', lastHeartbeatAt: state.lastSeenAt, facts: null },
    notify: 'offline',
  }
}

/**
 * What people are shown at `now`: the status and last sign of life, with a silence past the deadline
 * already counted as offline (the alarm that records it may not have run yet); null before any news.
 */
export function livenessAt(state: Liveness, now: number): { status: LiveStatus; lastSeenAt: number } | null {
  const { status, lastSeenAt } = checkSilence(state, now).next
  return status === null || lastSeenAt === null ? null : { status, lastSeenAt }
}

/** When the agent counts as offline unless it is heard from, epoch ms; null when already offline. */
export function livenessDeadline(state: Liveness): number | null {
  if (state.status === null || state.status === 'offline' || state.lastSeenAt === null) return null
  return state.lastSeenAt + OFFLINE_AFTER_MS
}

function transition(from: LiveStatus | null, to: LiveStatus): 'offline' | 'online' | null {
  if (from === null || from === to) return null
  if (to === 'offline') return 'offline'
  return from === 'offline' ? 'online' : null
}

function mergeFacts(old: InstanceFacts, heartbeat: InstanceFacts): InstanceFacts {
  return {
    instanceId: heartbeat.instanceId ?? old.instanceId,
    instanceType: heartbeat.instanceType ?? old.instanceType,
    mode: heartbeat.mode ?? old.mode,
    az: heartbeat.az ?? old.az,
  }
}

/** Facts that differ from what D1 was told (for the current instance); null when none. */
function changedFacts(old: InstanceFacts, next: InstanceFacts): Partial<InstanceFacts> | null {
  if (next.instanceId !== old.instanceId) return next.instanceId === null ? null : { ...next }
  const changed: Partial<InstanceFacts> = {}
  if (next.instanceType !== old.instanceType) changed.instanceType = next.instanceType
  if (next.mode !== old.mode) changed.mode = next.mode
  if (next.az !== old.az) changed.az = next.az
  return Object.keys(changed).length === 0 ? null : { instanceId: next.instanceId, ...changed }
}
