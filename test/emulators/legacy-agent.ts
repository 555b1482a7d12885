/**
 * An installed Python agent (4.0.0 or 3.2.0) as a small HTTP client: it registers, then heartbeats,
 * polls commands, config and (4.x) launching replicas, and reports prices on the 4.0.0 cadence, sending
 * the bodies of `test/fixtures/legacy-agent-bodies/`. Polling only, no EC2: a switch is emulated by
 * reporting it and registering again from a made-up new instance, as the new host's agent would.
 */
import { heartbeatBody, legacyBody, pricingBody, registerBody, switchReportBody, type LegacyIdentity } from './legacy-bodies'

/** Seconds between calls of each loop. */
export interface Cadence {
  heartbeat: number
  pendingCommands: number
  config: number
  pricing: number
  replicaPoll: number
  /** systemd restarts a process whose register failed after 10 s. */
  registerRetry: number
}

/** The installed agent's cadence (agent-api.md). */
export const LEGACY_CADENCE: Cadence = { heartbeat: 30, pendingCommands: 15, config: 60, pricing: 300, replicaPoll: 30, registerRetry: 10 }

/** Receives one sample per request: a route label, its latency and its HTTP status (0: no answer). */
export interface Recorder {
  record(route: string, ms: number, status: number): void
}

export interface LegacyAgentOptions {
  serverUrl: string
  identity: LegacyIdentity
  cadence?: Partial<Cadence>
  /** Market data the agent reports (default: three AZs around 30 % of $0.0416). */
  prices?: () => { spot: Record<string, number>; onDemand: number }
  recorder?: Recorder
  /** Delay before the first call, to spread many agents over the cadence. */
  startDelayMs?: number
  /** Called once per command it runs (before it reports), so a test can count duplicates. */
  onExecute?: (commandId: string) => void
}

interface PendingCommand {
  id: string
  command_type?: string
  target_mode?: string | null
  target_pool_id?: string | null
}

export class LegacyAgent {
  /** Its current instance (changes after a switch). */
  identity: LegacyIdentity
  agentId: string | null = null
  /** Ids of the commands it ran, in order (a duplicate shows up twice). */
  readonly executedCommands: string[] = []
  registrations = 0
  private readonly cadence: Cadence
  private readonly timers = new Set<NodeJS.Timeout>()
  private running = false

  constructor(private readonly options: LegacyAgentOptions) {
    this.identity = { ...options.identity }
    this.cadence = { ...LEGACY_CADENCE, ...options.cadence }
  }

  start(): void {
    this.running = true
    this.later(this.options.startDelayMs ?? 0, () => this.registerUntilDone())
  }

  /** Stops every loop; with `sayOffline`, sends the shutdown heartbeat first. */
  async stop(sayOffline = false): Promise<void> {
    this.running = false
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    if (sayOffline && this.agentId) await this.call('POST', `/api/agents/${this.agentId}/heartbeat`, 'heartbeat', legacyBody('heartbeat-offline.json'))
  }

  private async registerUntilDone(): Promise<void> {
    if (await this.register()) {
      this.every(this.cadence.heartbeat, () => this.heartbeat())
      this.every(this.cadence.pendingCommands, () => this.pollCommands())
      this.every(this.cadence.config, () => this.call('GET', `/api/agents/${this.agentId}/config`, 'config'))
      this.every(this.cadence.pricing, () => this.reportPrices())
      if (this.identity.version === '4.0.0') this.every(this.cadence.replicaPoll, () => this.pollReplicas())
    } else {
      this.later(this.cadence.registerRetry * 1000, () => this.registerUntilDone())
    }
  }

  private async register(): Promise<boolean> {
    const answer = await this.call('POST', '/api/agents/register', 'register', registerBody(this.identity))
    const agentId = (answer as { agent_id?: unknown } | null)?.agent_id
    if (typeof agentId !== 'string') return false
    this.agentId = agentId
    this.registrations += 1
    return true
  }

  private heartbeat() {
    return this.call('POST', `/api/agents/${this.agentId}/heartbeat`, 'heartbeat', heartbeatBody(this.identity))
  }

  private reportPrices() {
    const { spot, onDemand } = this.options.prices?.() ?? defaultPrices(this.identity.region)
    return this.call('POST', `/api/agents/${this.agentId}/pricing-report`, 'pricing-report', pricingBody(this.identity, spot, onDemand))
  }

  /** Like 4.0.0: at most one command per poll, a switch without target_mode is skipped. */
  private async pollCommands(): Promise<void> {
    const answer = await this.call('GET', `/api/agents/${this.agentId}/pending-commands`, 'pending-commands')
    const list = Array.isArray(answer) ? answer : (answer as { commands?: unknown } | null)?.commands
    const command = Array.isArray(list) ? (list[0] as PendingCommand | undefined) : undefined
    if (!command) return
    const type = command.command_type ?? 'switch'
    if (type === 'switch') {
      if (!command.target_mode) return
      await this.switchTo(command)
    } else {
      await this.markExecuted(command.id)
    }
  }

  private async switchTo(command: PendingCommand): Promise<void> {
    const from = this.identity
    const toSpot = command.target_mode === 'spot' && !!command.target_pool_id
    const az = toSpot ? command.target_pool_id!.slice(command.target_pool_id!.lastIndexOf('.') + 1) : from.az
    const to: LegacyIdentity = { ...from, instanceId: newInstanceId(), az, mode: toSpot ? 'spot' : 'ondemand' }
    const { spot, onDemand } = this.options.prices?.() ?? defaultPrices(from.region)
    const prices = { onDemand, oldSpot: from.mode === 'spot' ? (spot[from.az] ?? null) : null, newSpot: toSpot ? (spot[az] ?? null) : null }
    this.identity = to
    await this.call('POST', `/api/agents/${this.agentId}/switch-report`, 'switch-report', switchReportBody(to, from, Date.now(), prices))
    await this.markExecuted(command.id)
    await this.register()
  }

  private async markExecuted(commandId: string): Promise<void> {
    this.executedCommands.push(commandId)
    this.options.onExecute?.(commandId)
    if (this.identity.version === '3.2.0') {
      await this.call('POST', `/api/agents/${this.agentId}/mark-command-executed`, 'mark-command-executed', { command_id: commandId })
    } else {
      await this.call('POST', `/api/agents/${this.agentId}/commands/${commandId}/executed`, 'executed', legacyBody('executed-v4.json'))
    }
  }

  /** 4.0.0 launches every replica listed as launching; here: report a made-up instance, then ready. */
  private async pollReplicas(): Promise<void> {
    const answer = await this.call('GET', `/api/agents/${this.agentId}/replicas?status=launching`, 'replicas')
    const replicas = (answer as { replicas?: { id?: string }[] } | null)?.replicas ?? []
    for (const replica of replicas) {
      if (!replica.id) continue
      const base = `/api/agents/${this.agentId}/replicas/${replica.id}`
      await this.call('PUT', base, 'replica-put', { ...legacyBody('replica-put-instance-v4.json'), instance_id: newInstanceId() })
      await this.call('POST', `${base}/status`, 'replica-status', { ...legacyBody('replica-status-ready-v4.json'), sync_completed_at: new Date().toISOString() })
    }
  }

  /** One call; like the installed agent, any non-2xx or a 30 s timeout is "no answer" (null). */
  private async call(method: string, path: string, route: string, body?: unknown): Promise<unknown> {
    const started = performance.now()
    let status = 0
    try {
      const response = await fetch(`${this.options.serverUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${this.identity.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(30_000),
      })
      status = response.status
      const text = await response.text()
      return response.ok && text ? (JSON.parse(text) as unknown) : null
    } catch {
      return null
    } finally {
      this.options.recorder?.record(route, performance.now() - started, status)
    }
  }

  private every(seconds: number, action: () => Promise<unknown>): void {
    const tick = async () => {
      await action()
      this.later(seconds * 1000, tick)
    }
    void tick()
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

/** A made-up EC2 instance id (17 hex digits). */
export function newInstanceId(): string {
  return `i-${[...crypto.getRandomValues(new Uint8Array(9))].map((b) => b.toString(16).padStart(2, '0')).join('').slice(0, 17)}`
}

function defaultPrices(region: string) {
  return { spot: { [`${region}a`]: 0.0125, [`${region}b`]: 0.0131, [`${region}c`]: 0.0119 }, onDemand: 0.0416 }
}
