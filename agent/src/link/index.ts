/**
 * The only way the agent talks to the control plane: typed calls (link/http.ts), the push socket
 * (link/socket.ts) and an outbox of reports persisted in the state directory, delivered in order and
 * retried until the control plane takes them (so every report eventually lands).
 */
import * as z from 'zod'
import { AgentConfig, type AgentMessage, type Command, type ServerMessage } from '../../../src/protocol'
import { backoffMs, type Clock } from '../clock'
import type { Log } from '../log'
import type { State } from '../state'
import {
  EmergencyReplica,
  parseCommands,
  Registered,
  ReplicaItem,
  TerminationAnswer,
  type Http,
  type Reply,
} from './http'
import { serverClock } from './server-clock'
import { openStream, type Stream } from './socket'

export type { Reply } from './http'

export interface LinkDeps {
  http: Http
  state: State
  clock: Clock
  log: Log
  serverUrl: string
  token: string
  signal: AbortSignal
}

const REGISTER_PATH = '/api/agents/register'

/**
 * 4xx answers that a retry can fix (0: no answer; 401: a token being rotated or renewed); other 4xx
 * drop the report at once (it will never be accepted).
 */
const TRANSIENT = new Set([0, 401, 408, 425, 429])
/**
 * A report still refused (5xx, a transient 4xx, no answer) when it has been queued this long, after at
 * least OUTBOX_MIN_ATTEMPTS tries by this process, is given up: one the control plane can never take
 * would otherwise hold every later report behind it. The attempts count restarts with the process, so
 * an agent started after a long outage still tries its old reports for a few minutes first.
 */
export const OUTBOX_MAX_AGE_MS = 24 * 3600_000
export const OUTBOX_MIN_ATTEMPTS = 20

export class Link {
  agentId: string | null = null
  /** The agent token of a verified registration: every call but `register` sends it instead of the client token. */
  private agentToken: string | null = null
  private stream: Stream | null = null
  private waiters = new Map<string, Array<(delivered: boolean) => void>>()
  private flushing = false
  private wake: AbortController | null = null
  /** The outbox waits out a backoff after failed deliveries. */
  private backingOff = false
  /** Failed deliveries of each queued report by this process. */
  private attempts = new Map<string, number>()
  private readonly server

  constructor(private readonly deps: LinkDeps) {
    this.server = serverClock(deps.clock)
  }

  /** The control plane's now (epoch ms) as last heard (server-clock.ts): what `expires_at` is checked against. */
  serverNow(): number {
    return this.server.now()
  }

  /**
   * Every call to the control plane. An answer (not a network failure or a 5xx) while the outbox is
   * backing off means the control plane is back: deliver now rather than after up to 10 s of backoff
   * (an emergency launch's report must land within what is left of the 2-minute notice).
   */
  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    schema?: z.ZodType<T>,
  ): Promise<Reply<T>> {
    const bearer = path === REGISTER_PATH ? undefined : (this.agentToken ?? undefined)
    const reply = await this.deps.http.request(method, path, body, schema, bearer)
    if (reply.serverTime !== undefined) this.server.heard(reply.serverTime)
    if (this.backingOff && reply.status > 0 && reply.status < 500) this.kick()
    return reply
  }

  private path(suffix: string): string {
    if (!this.agentId) throw new Error('not registered yet')
    return `/api/agents/${encodeURIComponent(this.agentId)}${suffix}`
  }

  /** Registers with the client token; from then on the agent token (the new one, else `heldToken`) if any. */
  async register(body: Record<string, unknown>, heldToken: string | null = null): Promise<Reply<Registered>> {
    const reply = await this.request('POST', REGISTER_PATH, body, Registered)
    if (reply.ok) {
      this.agentId = reply.body.agent_id
      this.agentToken = reply.body.agent_token ?? (reply.body.identity === 'verified' ? heldToken : null)
    } else if (reply.status === 410) {
      this.agentToken = heldToken // a deleted agent's uninstall is served on its own token
    }
    return reply
  }

  /** Sends `token` instead of the client token (a retired agent delivers its last reports unregistered). */
  useAgentToken(token: string | null): void {
    this.agentToken = token
  }

  heartbeat(body: Record<string, unknown>) {
    return this.request('POST', this.path('/heartbeat'), body)
  }

  config() {
    return this.request('GET', this.path('/config'), undefined, AgentConfig)
  }

  async pendingCommands(instanceId: string): Promise<Reply<Command[]>> {
    const reply = await this.request(
      'GET',
      this.path(`/pending-commands?instance_id=${encodeURIComponent(instanceId)}`),
    )
    return reply.ok ? { ...reply, body: parseCommands(reply.body, this.deps.log) } : reply
  }

  /** Claims a command for this instance: only the first claim wins (200 again for the same claimant). */
  claim(commandId: string, instanceId: string) {
    return this.request('POST', this.path(`/commands/${encodeURIComponent(commandId)}/ack`), {
      instance_id: instanceId,
    })
  }

  /** The command started, or (`step`) made progress: each renews its lease at the control plane. */
  running(commandId: string, instanceId: string, step: string | null = null) {
    return this.request('POST', this.path(`/commands/${encodeURIComponent(commandId)}/running`), {
      instance_id: instanceId,
      step,
    })
  }

  terminationImminent(body: Record<string, unknown>) {
    return this.request('POST', this.path('/termination-imminent'), body, TerminationAnswer)
  }

  rebalanceRecommendation(body: Record<string, unknown>) {
    return this.request('POST', this.path('/rebalance-recommendation'), body)
  }

  createEmergencyReplica(body: Record<string, unknown>) {
    return this.request('POST', this.path('/create-emergency-replica'), body, EmergencyReplica)
  }

  async replicas(status: string): Promise<Reply<ReplicaItem[]>> {
    const schema = z.object({ replicas: z.array(z.unknown()) })
    const reply = await this.request(
      'GET',
      this.path(`/replicas?status=${status}&include_terminated=false`),
      undefined,
      schema,
    )
    if (!reply.ok) return reply
    const list = reply.body.replicas.flatMap((r) => {
      const parsed = ReplicaItem.safeParse(r)
      return parsed.success ? [parsed.data] : []
    })
    return { ...reply, body: list }
  }

  /** Queues a report (persisted) and starts delivering it; same key replaces a queued one. */
  report(key: string, method: 'POST' | 'PUT', suffix: string, body: unknown): void {
    this.deps.state.enqueue({ key, method, path: this.path(suffix), body, queuedAt: this.deps.clock.now() })
    this.kick()
  }

  /** Resolves when the report with `key` left the outbox: true when accepted, false when refused. */
  delivered(key: string): Promise<boolean> {
    if (!this.deps.state.outbox().some((o) => o.key === key)) return Promise.resolve(true)
    return new Promise((resolve) => {
      const list = this.waiters.get(key) ?? []
      list.push(resolve)
      this.waiters.set(key, list)
    })
  }

  /** Reports not yet delivered. */
  get pendingReports(): number {
    return this.deps.state.outbox().length
  }

  /**
   * Waits up to `timeoutMs`, or until `signal` aborts, for the outbox to empty (before exiting: what
   * stays is sent after a restart).
   */
  async drain(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = this.deps.clock.now() + timeoutMs
    if (this.pendingReports > 0) this.kick() // one attempt now, even in the middle of a backoff
    while (this.pendingReports > 0 && this.deps.clock.now() < deadline && !signal?.aborted) {
      await this.deps.clock.sleep(200, signal)
      // Only a stopped flush is restarted: kicking a running one every 200 ms would hammer a control
      // plane that is down instead of backing off.
      if (!this.flushing) this.kick()
    }
    return this.pendingReports === 0
  }

  /** Delivers the outbox now (after a restart, or when the control plane answered again). */
  kick(): void {
    if (this.flushing) {
      this.wake?.abort()
      return
    }
    this.flushing = true
    void this.flush().finally(() => {
      this.flushing = false
      // Queued between the flush finding the outbox empty and getting here: it goes out too.
      if (this.pendingReports > 0) this.kick()
    })
  }

  private async flush(): Promise<void> {
    const { state, clock, log } = this.deps
    let failures = 0
    // Not bound to the stop signal: reports are what must still go out while the agent stops.
    for (;;) {
      const item = state.outbox()[0]
      if (!item) return
      const reply = await this.request(item.method, item.path, item.body)
      const attempts = reply.ok ? 0 : (this.attempts.get(item.key) ?? 0) + 1
      const refused = reply.status >= 400 && reply.status < 500 && !TRANSIENT.has(reply.status)
      const age = clock.now() - item.queuedAt
      const expired = attempts >= OUTBOX_MIN_ATTEMPTS && age > OUTBOX_MAX_AGE_MS
      if (reply.ok || refused || expired) {
        if (!reply.ok)
          // The key, status and error only: bodies and headers may carry what must not be logged.
          log.warn(refused ? 'report refused, dropped' : 'report undeliverable, given up', {
            key: item.key,
            status: reply.status,
            error: reply.error,
            attempts,
            age_ms: age,
          })
        // Replaced while in flight (the emergency report completed with its address move): the newer version goes next.
        state.dequeue(item.key, item)
        this.attempts.delete(item.key)
        for (const resolve of this.waiters.get(item.key) ?? []) resolve(reply.ok)
        this.waiters.delete(item.key)
        failures = 0
        continue
      }
      this.attempts.set(item.key, attempts)
      failures++
      // Capped at 10 s: a retired agent (after an emergency launch) has no other request that would
      // notice the control plane is back, and its report must land within the 2-minute notice.
      const wait = backoffMs(failures - 1, 1_000, 10_000)
      log.warn('report not delivered, will retry', { key: item.key, status: reply.status, in_ms: wait })
      this.wake = new AbortController()
      this.backingOff = true
      await clock.sleep(wait, this.wake.signal)
      this.backingOff = false
    }
  }

  /** Opens the push socket; `onMessage` receives every server message. */
  openStream(
    instanceId: string,
    onMessage: (m: ServerMessage) => void,
    onOpenChange: (open: boolean) => void,
  ): void {
    if (!this.agentId) throw new Error('not registered yet')
    this.stream = openStream({
      serverUrl: this.deps.serverUrl,
      token: this.agentToken ?? this.deps.token,
      agentId: this.agentId,
      instanceId,
      clock: this.deps.clock,
      log: this.deps.log,
      signal: this.deps.signal,
      onMessage: (message) => {
        if (message.type === 'hello') this.server.heard(Date.parse(message.server_time))
        onMessage(message)
      },
      onOpenChange,
    })
  }

  get isStreamOpen(): boolean {
    return this.stream?.isOpen ?? false
  }

  /** Sends over the socket when open; false otherwise. */
  send(message: AgentMessage): boolean {
    return this.stream?.send(message) ?? false
  }
}
