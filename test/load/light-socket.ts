/**
 * A light socket client for scale runs: one agent's push socket and nothing else (no process, no
 * HTTP loop). It speaks the 5.x socket wire of issue 13: `{"type":"ping"}` answered by `pong` (the
 * object's automatic response), `{"type":"heartbeat",...}` answered by `heartbeat_ok`; a pushed
 * command is acked and reported done once. Round trips are timed per kind, first in first out.
 */
import WebSocket from 'ws'
import { socketHeartbeatMessage } from './push-agent'

export type Probe = 'ping' | 'heartbeat'

/** The answer each probe waits for. */
const ANSWER: Record<string, Probe> = { pong: 'ping', heartbeat_ok: 'heartbeat' }

export interface LightSocketEvents {
  /** A round trip answered, ms. */
  answered(probe: Probe, ms: number): void
  /** A command arrived (first time only), at performance.now(). */
  command(commandId: string, at: number): void
  /** The socket closed without `close()` being called. */
  dropped(): void
}

export class LightSocket {
  private socket: WebSocket | null = null
  private readonly sent: Record<Probe, number[]> = { ping: [], heartbeat: [] }
  private readonly seen = new Set<string>()
  private closing = false

  constructor(
    private readonly url: string,
    private readonly token: string,
    readonly agentId: string,
    readonly instanceId: string,
    private readonly events: LightSocketEvents,
  ) {}

  /** Resolves when the socket is open; rejects on a refused upgrade or an error before that. */
  open(): Promise<void> {
    const socket = new WebSocket(
      `${this.url.replace(/^http/, 'ws')}/api/agents/${this.agentId}/stream?instance_id=${this.instanceId}`,
      {
        headers: { Authorization: `Bearer ${this.token}` },
        perMessageDeflate: false,
      },
    )
    this.socket = socket
    socket.on('message', (data) => this.onMessage(String(data)))
    return new Promise((resolve, reject) => {
      socket.once('open', () => {
        socket.on('close', () => {
          if (!this.closing) this.events.dropped()
        })
        resolve()
      })
      socket.once('unexpected-response', (request, response) => {
        // Listening to this event leaves ending the request to us (ws): else its connection stays open.
        request.destroy()
        reject(new Error(`upgrade refused: HTTP ${response.statusCode}`))
      })
      socket.on('error', reject)
    })
  }

  /** Waiting probes of a kind (sent, not yet answered). */
  waiting(probe: Probe): number {
    return this.sent[probe].length
  }

  ping(): void {
    this.probe('ping', { type: 'ping' })
  }

  heartbeat(): void {
    this.probe('heartbeat', socketHeartbeatMessage(this.instanceId))
  }

  close(): void {
    this.closing = true
    this.socket?.terminate()
  }

  private probe(probe: Probe, message: object): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return
    this.sent[probe].push(performance.now())
    this.socket.send(JSON.stringify(message))
  }

  private onMessage(text: string): void {
    const at = performance.now()
    let message: { type?: string; command?: { id: string } }
    try {
      message = JSON.parse(text) as typeof message
    } catch {
      return
    }
    const probe = message.type ? ANSWER[message.type] : undefined
    if (probe) {
      const sentAt = this.sent[probe].shift()
      if (sentAt !== undefined) this.events.answered(probe, at - sentAt)
      return
    }
    if (message.type !== 'command' || !message.command) return
    const id = message.command.id
    this.socket?.send(JSON.stringify({ type: 'ack', command_id: id, instance_id: this.instanceId }))
    this.socket?.send(
      JSON.stringify({ type: 'result', command_id: id, success: true, message: 'light socket' }),
    )
    if (this.seen.has(id)) return
    this.seen.add(id)
    this.events.command(id, at)
  }
}
