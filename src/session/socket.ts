/**
 * The push socket's edge: per-socket facts (kept in the socket's attachment so they survive
 * hibernation), message encoding and parsing, and which sockets a command goes to.
 */
import { AgentMessage, commandTypesFor, type ServerMessage } from '../protocol'
import type { AgentRef, HeartbeatInput, QueuedCommand } from './types'

/** What a socket is: set when the agent connects, read back after hibernation. */
export interface SocketFacts {
  instanceId: string
  agentVersion: string | null
  /** Epoch ms. */
  connectedAt: number
  /**
   * The last socket heartbeat that changed nothing, epoch ms: kept here (memory, no storage row) rather
   * than in the object's liveness, which is written only when D1 is (docs/capacity.md, Liveness).
   */
  heardAt?: number
}

/** Headers the stream route uses to hand the authenticated facts to the object. */
export const SOCKET_HEADERS = {
  clientId: 'x-spotguard-client-id',
  agentId: 'x-spotguard-agent-id',
  instanceId: 'x-spotguard-instance-id',
  agentVersion: 'x-spotguard-agent-version',
} as const

/** The facts of a socket request forwarded by the stream route; null when it isn't one. */
export function readConnect(
  request: Request,
  now: number,
): { ref: { clientId: string; agentId: string }; facts: SocketFacts } | null {
  const header = (name: string) => request.headers.get(name)
  const clientId = header(SOCKET_HEADERS.clientId)
  const agentId = header(SOCKET_HEADERS.agentId)
  const instanceId = header(SOCKET_HEADERS.instanceId)
  if (header('Upgrade')?.toLowerCase() !== 'websocket' || !clientId || !agentId || !instanceId) return null
  return {
    ref: { clientId, agentId },
    facts: { instanceId, agentVersion: header(SOCKET_HEADERS.agentVersion), connectedAt: now },
  }
}

export function send(socket: WebSocket, message: ServerMessage): boolean {
  try {
    socket.send(JSON.stringify(message))
    return true
  } catch {
    return false
  }
}

/** A frame longer than this is dropped unread: room for a 4,096-character result JSON-escaped. */
export const MAX_MESSAGE_CHARS = 32 * 1024

/** An agent's message, or null for anything that isn't one (ignored). */
export function parseAgentMessage(data: string | ArrayBuffer): AgentMessage | null {
  if ((typeof data === 'string' ? data.length : data.byteLength) > MAX_MESSAGE_CHARS) return null
  const text = typeof data === 'string' ? data : new TextDecoder().decode(data)
  try {
    const parsed = AgentMessage.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

/**
 * The sockets a command is pushed to: those of its instance that understand its type; a command for
 * any instance goes to the newest connection only (one claimant is enough, the ack decides anyway).
 */
export function recipients<S>(
  command: QueuedCommand,
  sockets: readonly { socket: S; facts: SocketFacts }[],
): S[] {
  const able = sockets.filter(
    ({ facts }) =>
      commandTypesFor(facts.agentVersion).includes(command.commandType) &&
      (command.instanceId === null || command.instanceId === facts.instanceId),
  )
  if (command.instanceId !== null) return able.map((s) => s.socket)
  const newest = able.reduce<(typeof able)[number] | null>(
    (a, b) => (a === null || b.facts.connectedAt > a.facts.connectedAt ? b : a),
    null,
  )
  return newest ? [newest.socket] : []
}

/** A socket `heartbeat` as the object's heartbeat input: the instance is the socket's own. */
export function heartbeatInput(
  message: Extract<AgentMessage, { type: 'heartbeat' }>,
  ref: AgentRef,
  facts: SocketFacts,
): HeartbeatInput {
  return {
    clientId: ref.clientId,
    agentId: ref.agentId,
    status: message.status,
    instanceId: facts.instanceId,
    instanceType: message.instance_type ?? null,
    mode: message.mode ?? null,
    az: message.az ?? null,
  }
}

/**
 * The newest sign of life on `sockets`, epoch ms: an automatic ping (`pingedAt`, the runtime's real
 * time, turned into the clock's by `timeOfReal`) or a heartbeat kept in the attachment; null: none.
 */
export function lastHeardOn<S>(
  sockets: readonly { socket: S; facts: SocketFacts }[],
  pingedAt: (socket: S) => Date | null,
  timeOfReal: (real: number) => number,
): number | null {
  const times = sockets.flatMap(({ socket, facts }) => {
    const ping = pingedAt(socket)
    return [
      ...(ping ? [timeOfReal(ping.getTime())] : []),
      ...(facts.heardAt !== undefined ? [facts.heardAt] : []),
    ]
  })
  return times.length === 0 ? null : Math.max(...times)
}
