/**
 * The agent's heartbeat. While the push socket is open it goes over the socket: when the socket opens,
 * when the status or a fact changes, and every SOCKET_HEARTBEAT_MS otherwise (the socket's pings keep
 * "last seen" fresh in between, free). While the socket is down it is POSTed every loop tick, the first
 * at once when the socket drops; and also while the last socket heartbeat goes unanswered (a control
 * plane older than the agent, or a socket gone half-open). Installed (legacy) agents POST every 30 s.
 */
import { SOCKET_HEARTBEAT_MS } from '../../src/protocol'
import type { Clock } from './clock'
import type { Link } from './link'

/** What a heartbeat says (the HTTP heartbeat body's fields). */
export interface HeartbeatFacts {
  status: 'online' | 'disabled'
  instance_id: string
  instance_type: string
  mode: 'spot' | 'ondemand'
  az: string
}

export interface HeartbeatDeps {
  /** The link's socket state, socket send and HTTP heartbeat (agent/src/link). */
  link: {
    readonly isStreamOpen: boolean
    send: Link['send']
    heartbeat(body: Record<string, unknown>): Promise<unknown>
  }
  clock: Clock
  facts: () => HeartbeatFacts
  /** False once the agent stops or retires: a socket closing then sends nothing. */
  isActive: () => boolean
}

export interface Heartbeat {
  /** One tick of the heartbeat loop: a POST while the socket is down, a socket heartbeat when due. */
  beat(): Promise<void>
  /** The socket opened or closed: heartbeat at once the new way. */
  onOpenChange(): void
  /** The status may have changed (config refreshed): told at once over an open socket. */
  onChange(): void
  /** The control plane answered the socket heartbeat (`heartbeat_ok`). */
  onAnswer(): void
}

/** A socket heartbeat with no `heartbeat_ok` this long after it is taken as unheard, ms. */
export const ANSWER_WITHIN_MS = 25_000

export function createHeartbeat(deps: HeartbeatDeps): Heartbeat {
  const { link, clock } = deps
  /** The last socket heartbeat (what it said, when, whether answered); null: the next one is due now. */
  let sent: { said: string; at: number; answered: boolean } | null = null

  /** Sends a socket heartbeat when one is due; false when the socket is down. */
  const overSocket = (facts: HeartbeatFacts): boolean => {
    const said = JSON.stringify(facts)
    const now = clock.now()
    const isDue = sent === null || sent.said !== said || now - sent.at >= SOCKET_HEARTBEAT_MS
    if (!isDue) return true
    sent = { said, at: now, answered: false }
    if (link.send({ type: 'heartbeat', ...facts })) return true
    sent = null
    return false
  }

  const beat = async (): Promise<void> => {
    const facts = deps.facts()
    if (link.isStreamOpen && overSocket(facts)) {
      if (sent === null || sent.answered || clock.now() - sent.at < ANSWER_WITHIN_MS) return
    } else sent = null
    await link.heartbeat({ ...facts, monitored_instances: [facts.instance_id] })
  }

  return {
    beat,
    onOpenChange() {
      sent = null
      if (deps.isActive()) void beat().catch(() => undefined)
    },
    onChange() {
      if (deps.isActive() && link.isStreamOpen) overSocket(deps.facts())
    },
    onAnswer() {
      if (sent) sent.answered = true
    },
  }
}
