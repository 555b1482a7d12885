/**
 * A lightweight new (5.x) agent for load tests: registers, holds the push socket of its Durable
 * Object (reconnecting when it drops), acknowledges and completes commands exactly once per command
 * id, and heartbeats and reports prices over HTTP. No EC2: a switch is reported, not performed.
 */
import WebSocket from 'ws'
import type { Recorder } from '../emulators/legacy-agent'
import { newInstanceId } from '../emulators/legacy-agent'
import { legacyBody } from '../emulators/legacy-bodies'
import { backoffMs } from '../../agent/src/clock'

export interface PushAgentOptions {
  serverUrl: string
  token: string
  logicalAgentId: string
  recorder: Recorder
  /** Called once per command this agent runs (the load test counts duplicates across agents). */
  onExecute: (commandId: string) => void
  /** Seconds. */
  cadence?: { heartbeat: number; pricing: number }
  startDelayMs?: number
}

interface WireCommand {
  id: string
  command_type: string
  instance_id: string | null
  target_mode?: string
  target_pool_id?: string | null
}

export class PushAgent {
  agentId: string | null = null
  instanceId = newInstanceId()
  /** Whether the socket is open now. */
  connected = false
  connects = 0
  /** WebSocket messages it sent (billed to its Durable Object at 20:1). */
  messagesSent = 0
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
    const agentId = (answer as { agent_id?: unknown } | null)?.agent_id
    if (typeof agentId !== 'string') return this.later(backoffMs(this.registerRetries++, 1_000, 60_000), () => this.boot())
    this.agentId = agentId
    this.connect()
    const cadence = this.options.cadence ?? { heartbeat: 30, pricing: 300 }
    this.every(cadence.heartbeat, () => this.heartbeat())
    this.every(cadence.pricing, () => this.reportPrices())
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
    })
    socket.on('unexpected-response', (_request, response) => {
      this.options.recorder.record('stream (connect)', performance.now() - started, response.statusCode ?? 0)
    })
    socket.on('message', (data) => this.onMessage(socket, String(data)))
    socket.on('error', () => {})
    socket.on('close', () => {
      this.connected = false
      if (!opened) this.options.recorder.record('stream (connect)', performance.now() - started, 0)
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
    return this.call('POST', `/api/agents/${this.agentId}/pricing-report`, 'pricing-report', { ...body, instance })
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
