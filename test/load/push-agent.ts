/**
 * A lightweight new (5.x) agent for load tests: registers, holds the push socket of its Durable
 * Object (reconnecting when it drops), acknowledges and completes commands exactly once per command
 * id, reports prices over HTTP, and heartbeats as the real agent does (agent/src/heartbeat.ts): over
 * the socket (on open, then every SOCKET_HEARTBEAT_MS) with the automatic ping every 30 s while it is
 * open, by POST while it is down. No EC2: a switch is reported, not performed.
 */
import WebSocket from 'ws'
import { SOCKET_HEARTBEAT_MS, SOCKET_PING } from '../../src/protocol'
import { PING_INTERVAL_MS } from '../../agent/src/link/socket'
import type { Recorder } from '../emulators/legacy-agent'
import { newInstanceId } from '../emulators/legacy-agent'
import { legacyBody } from '../emulators/legacy-bodies'
import { backoffMs } from '../../agent/src/clock'

export interface PushAgentOptions {
  serverUrl: string
  token: string
  logicalAgentId: string
  recorder: Recorder
  /**
   * Round trips over the socket (a heartbeat to its `heartbeat_ok`, as route `socket heartbeat`): the
   * load test counts them among the agents' requests; the usage bench does not (no Worker request).
   */
  socketRecorder?: Recorder
  /** Called once per command this agent runs (the load test counts duplicates across agents). */
  onExecute: (commandId: string) => void
  /**
   * Seconds: `heartbeat` the POST while the socket is down (30), `pricing` the pricing report (300),
   * `socketHeartbeat` the socket heartbeat while it is up and `ping` the automatic ping, by default
   * scaled with `heartbeat` as the real agent's 90 s and 30 s are with its 30 s (a sped-up run that
   * divides `heartbeat` divides them too).
   */
  cadence?: { heartbeat: number; pricing: number; socketHeartbeat?: number; ping?: number }
  startDelayMs?: number
}

/** The real agent's HTTP heartbeat interval (HEARTBEAT_INTERVAL's default), s. */
const REAL_AGENT_HEARTBEAT_SECONDS = 30

interface WireCommand {
  id: string
  command_type: string
  instance_id: string | null
  target_mode?: string
  target_pool_id?: string | null
}

/** The 5.x socket heartbeat of a light client on a t3.medium spot instance in us-east-1a. */
export function socketHeartbeatMessage(instanceId: string) {
  return {
    type: 'heartbeat',
    status: 'online',
    instance_id: instanceId,
    instance_type: 't3.medium',
    mode: 'spot',
    az: 'us-east-1a',
  } as const
}

export class PushAgent {
  agentId: string | null = null
  instanceId = newInstanceId()
  /** Whether the socket is open now. */
  connected = false
  connects = 0
  /** WebSocket messages it sent (billed to its Durable Object at 20:1); pings are not among them. */
  messagesSent = 0
  private pricingReporter = true
  /** Automatic pings it sent (answered by the runtime: no Durable Object request, no duration). */
  pingsSent = 0
  /** Socket heartbeats' round trips to their `heartbeat_ok`, ms (not Worker requests: no recorder route). */
  readonly socketHeartbeatMs: number[] = []
  /** Socket heartbeats not answered yet, by send time (performance.now()), oldest first. */
  private readonly heartbeatsInFlight: number[] = []
  /** Failed register attempts it retried (like the real agent: 1 s doubling to 60 s). */
  registerRetries = 0
  private socket: WebSocket | null = null
  private readonly executed = new Set<string>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private running = false

  constructor(private readonly options: PushAgentOptions) {}

  start(): void {
    this.running = true
    this.later(this.options.startDelayMs ?? 0, () => this.boot())
  }

  async stop(): Promise<void> {
    this.running = false
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    this.socket?.terminate()
  }

  private async boot(): Promise<void> {
    const answer = await this.call('POST', '/api/agents/register', 'register', {
      client_token: this.options.token,
      logical_agent_id: this.options.logicalAgentId,
      instance_id: this.instanceId,
      instance_type: 't3.medium',
      region: 'us-east-1',
      az: 'us-east-1a',
      ami_id: 'ami-0abcdef1234567890',
      mode: 'spot',
      agent_version: '5.0.0',
      private_ip: '10.0.1.5',
      public_ip: null,
    })
    const registered = answer as { agent_id?: unknown; config?: { pricing_reporter?: boolean } } | null
    const agentId = registered?.agent_id
    if (typeof agentId !== 'string')
      return this.later(backoffMs(this.registerRetries++, 1_000, 60_000), () => this.boot())
    this.agentId = agentId
    this.pricingReporter = registered?.config?.pricing_reporter !== false
    this.connect()
    const cadence = this.options.cadence ?? { heartbeat: 30, pricing: 300 }
    const scale = cadence.heartbeat / REAL_AGENT_HEARTBEAT_SECONDS
    this.every(cadence.heartbeat, () => (this.connected ? Promise.resolve() : this.heartbeat()))
    this.every(cadence.socketHeartbeat ?? (SOCKET_HEARTBEAT_MS / 1000) * scale, async () => {
      if (this.connected && this.socket) this.socketHeartbeat(this.socket)
    })
    this.every(cadence.ping ?? (PING_INTERVAL_MS / 1000) * scale, async () => {
      if (!this.connected || !this.socket) return
      this.pingsSent += 1
      this.socket.send(SOCKET_PING)
    })
    // One agent per client, region and type reports prices, as the 5.x agent does.
    this.every(cadence.pricing, () => (this.pricingReporter ? this.reportPrices() : Promise.resolve()))
  }

  /** The config's `pricing_reporter`, asked again when the object says the config changed. */
  private async refreshRole(): Promise<void> {
    const config = (await this.call('GET', `/api/agents/${this.agentId}/config`, 'config')) as {
      pricing_reporter?: boolean
    } | null
    if (config) this.pricingReporter = config.pricing_reporter !== false
  }

  private connect(): void {
    if (!this.running) return
    const started = performance.now()
    const url = `${this.options.serverUrl.replace(/^http/, 'ws')}/api/agents/${this.agentId}/stream?instance_id=${this.instanceId}`
    const socket = new WebSocket(url, { headers: { Authorization: `Bearer ${this.options.token}` } })
    this.socket = socket
    let opened = false
    socket.on('open', () => {
      opened = true
      this.connected = true
      this.connects += 1
      this.options.recorder.record('stream (connect)', performance.now() - started, 101)
      this.heartbeatsInFlight.length = 0
      this.socketHeartbeat(socket)
    })
    socket.on('unexpected-response', (_request, response) => {
      this.options.recorder.record('stream (connect)', performance.now() - started, response.statusCode ?? 0)
    })
    socket.on('message', (data) => this.onMessage(socket, String(data)))
    socket.on('error', () => {})
    socket.on('close', () => {
      const wasOpen = this.connected
      this.connected = false
      if (!opened) this.options.recorder.record('stream (connect)', performance.now() - started, 0)
      // Like the real agent: the heartbeat is POSTed the moment the socket is down.
      if (wasOpen && this.running) void this.heartbeat()
      this.later(1_000, () => this.connect())
    })
  }

  private onMessage(socket: WebSocket, text: string): void {
    let message: { type?: string; command?: WireCommand }
    try {
      message = JSON.parse(text) as typeof message
    } catch {
      return
    }
    if (message.type === 'heartbeat_ok') {
      const sentAt = this.heartbeatsInFlight.shift()
      if (sentAt === undefined) return
      const ms = performance.now() - sentAt
      this.socketHeartbeatMs.push(ms)
      this.options.socketRecorder?.record('socket heartbeat', ms, 200)
      return
    }
    if (message.type === 'config_changed') {
      void this.refreshRole()
      return
    }
    if (message.type !== 'command' || !message.command) return
    const command = message.command
    if (command.instance_id && command.instance_id !== this.instanceId) return
    this.send(socket, { type: 'ack', command_id: command.id, instance_id: this.instanceId })
    if (!this.executed.has(command.id)) {
      this.executed.add(command.id)
      this.options.onExecute(command.id)
    }
    this.send(socket, { type: 'running', command_id: command.id })
    this.send(socket, { type: 'result', command_id: command.id, success: true, message: 'done (load test)' })
  }

  private send(socket: WebSocket, message: object): void {
    this.messagesSent += 1
    socket.send(JSON.stringify(message))
  }

  private socketHeartbeat(socket: WebSocket): void {
    this.heartbeatsInFlight.push(performance.now())
    this.send(socket, socketHeartbeatMessage(this.instanceId))
  }

  private heartbeat() {
    return this.call('POST', `/api/agents/${this.agentId}/heartbeat`, 'heartbeat', {
      status: 'online',
      monitored_instances: [this.instanceId],
      instance_id: this.instanceId,
      instance_type: 't3.medium',
      mode: 'spot',
      az: 'us-east-1a',
    })
  }

  private reportPrices() {
    const body = legacyBody('pricing-report-v4.json')
    const instance = { ...(body.instance as object), instance_id: this.instanceId }
    return this.call('POST', `/api/agents/${this.agentId}/pricing-report`, 'pricing-report', {
      ...body,
      instance,
    })
  }

  private async call(method: string, path: string, route: string, body?: unknown): Promise<unknown> {
    const started = performance.now()
    let status = 0
    try {
      const response = await fetch(`${this.options.serverUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${this.options.token}`, 'Content-Type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(30_000),
      })
      status = response.status
      const text = await response.text()
      return response.ok && text ? (JSON.parse(text) as unknown) : null
    } catch {
      return null
    } finally {
      this.options.recorder.record(route, performance.now() - started, status)
    }
  }

  private every(seconds: number, action: () => Promise<unknown>): void {
    const tick = async () => {
      await action()
      this.later(seconds * 1000, tick)
    }
    this.later(Math.random() * seconds * 1000, tick)
  }

  private later(ms: number, action: () => unknown): void {
    if (!this.running) return
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      if (this.running) void action()
    }, ms)
    this.timers.add(timer)
  }
}
