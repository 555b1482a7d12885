/**
 * The per-agent Durable Object: live command queue, push socket, liveness and its one alarm.
 * A thin shell: the decisions are the pure functions of queue.ts and liveness.ts, storage is store.ts,
 * D1 writes are history.ts. Public async methods are the RPC API; `fetch` only accepts the socket.
 */
import { DurableObject } from 'cloudflare:workers'
import { database, type Database } from '../db/client'
import { meteredD1 } from '../debug/d1-meter'
import type { Env } from '../env'
import { newId } from '../ids'
import { isLegacyAgent, type Command } from '../protocol'
import { commandHistory, livenessWrites, runBatch } from './history'
import { applyHeartbeat, applyRegistration, checkSilence, livenessDeadline, type LivenessStep } from './liveness'
import * as queue from './queue'
import { recipients, parseAgentMessage, send, SOCKET_HEADERS, type SocketFacts } from './socket'
import * as store from './store'
import type {
  AgentRef,
  ClaimInput,
  EnqueueResult,
  HeartbeatInput,
  HeartbeatResult,
  MoveResult,
  NewCommand,
  PollInput,
  Registration,
  ResultInput,
} from './types'

/** Retry delay for history that failed to reach D1, ms. */
const SYNC_RETRY_MS = 30_000

export class AgentSession extends DurableObject<Env> {
  private readonly sql: SqlStorage
  private readonly db: Database
  /** Serialises D1 syncs so an older state never lands after a newer one. */
  private syncing: Promise<void> = Promise.resolve()

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.db = database(meteredD1(env))
    void ctx.blockConcurrencyWhile(async () => store.createTables(this.sql))
  }

  /** Queues a command; a connected agent gets it pushed at once. */
  async enqueue(input: NewCommand): Promise<EnqueueResult> {
    const now = Date.now()
    const owner = this.owner(input)
    if (!owner || owner.retired) return { ok: false, reason: 'unsupported', message: 'agent not found' }
    const open = this.settle(now)
    const duplicate = queue.findDuplicate(open, input.dedupeKey)
    if (duplicate) {
      await this.afterChange(now)
      return { ok: false, reason: 'duplicate', commandId: duplicate.id }
    }
    const created = queue.createCommand(input, newId('cmd'), now)
    if (!created.ok) {
      await this.afterChange(now)
      return { ok: false, reason: 'unsupported', message: created.message }
    }
    const pushedTo = this.push(created.command)
    store.saveCommands(this.sql, [pushedTo > 0 ? queue.delivered(created.command, now) : created.command])
    await this.afterChange(now)
    return { ok: true, commandId: created.command.id }
  }

  /** The agent registered (again), possibly from a new instance: that completes a switch it claimed. */
  async registered(registration: Registration): Promise<void> {
    const now = Date.now()
    const owner = this.owner(registration, { agentVersion: registration.agentVersion, instanceId: registration.instanceId })
    if (!owner || owner.retired) return
    store.saveCommands(this.sql, queue.completeSwitches(this.settle(now), registration.instanceId, now))
    const step = applyRegistration(store.readLiveness(this.sql), registration.instanceId, now)
    await this.afterChange(now, this.applyLiveness(step, now))
  }

  /** A heartbeat: absorbed here; D1 hears only of changes and a periodic refresh. */
  async heartbeat(input: HeartbeatInput): Promise<HeartbeatResult> {
    const now = Date.now()
    if (!input.verified && !store.readOwner(this.sql)) return { ok: false, reason: 'unverified' }
    const owner = this.owner(input)
    if (!owner || owner.retired) return { ok: false, reason: 'not_found' }
    const step = applyHeartbeat(store.readLiveness(this.sql), input, now)
    const writes = this.applyLiveness(step, now)
    if (writes.length > 0) await this.sync(writes)
    await this.schedule(now)
    return { ok: true }
  }

  /** `pending-commands`: claimable commands for an instance, or one leased command for a legacy poller. */
  async pendingCommands(input: PollInput): Promise<Command[] | null> {
    const now = Date.now()
    const owner = this.owner(input, { agentVersion: input.agentVersion })
    if (!owner) return null
    const open = this.settle(now)
    let handed: queue.QueuedCommand[]
    let changed: queue.QueuedCommand[]
    if (input.instanceId !== null && !isLegacyAgent(input.agentVersion)) {
      ;({ handed, changed } = queue.pollAsInstance(open, input.instanceId, input.agentVersion, now))
    } else {
      const leased = queue.pollAsLegacy(open, input.agentVersion, owner.instanceId, now)
      handed = changed = leased ? [leased] : []
    }
    store.saveCommands(this.sql, changed)
    await this.afterChange(now)
    return handed.map((c) => c.wire)
  }

  /** The new agent claims a command (HTTP or socket `ack`); only the first claim wins. */
  async ack(input: ClaimInput): Promise<MoveResult> {
    return this.move(input, (c, now) => queue.ack(c, input.instanceId, now))
  }

  /** The claimer started running the command. */
  async running(input: ClaimInput): Promise<MoveResult> {
    return this.move(input, (c, now) => queue.markRunning(c, input.instanceId, now))
  }

  /** `executed`: success → completed, else failed; a repeat changes nothing. */
  async executed(input: ResultInput): Promise<MoveResult> {
    return this.move(input, (c, now) => queue.report(c, input.success, input.message, input.instanceId, now))
  }

  /**
   * The agent was deleted: heartbeats are answered like an unknown agent's, silence no longer makes
   * news, and its open commands are cancelled except `uninstall` (still pushed to a connected agent).
   */
  async retire(ref: AgentRef): Promise<void> {
    const now = Date.now()
    const owner = this.owner(ref)
    if (!owner) return
    store.writeOwner(this.sql, { ...owner, retired: true })
    store.saveCommands(this.sql, queue.cancelAll(this.settle(now), now, ['uninstall']))
    store.writeLiveness(this.sql, { ...store.readLiveness(this.sql), status: 'offline' })
    await this.afterChange(now)
  }

  /** A deleted agent was re-enabled: it is served again. */
  async reinstate(ref: AgentRef): Promise<void> {
    const owner = this.owner(ref)
    if (owner?.retired) store.writeOwner(this.sql, { ...owner, retired: false })
  }

  /** Expiries, lapsed leases, silence and D1 retries; recomputes itself, so running twice is harmless. */
  override async alarm(): Promise<void> {
    const now = Date.now()
    this.settle(now)
    const writes = this.applyLiveness(checkSilence(store.readLiveness(this.sql), now), now)
    await this.sync(writes)
    store.pruneFinished(this.sql, now)
    await this.schedule(now, true)
  }

  /** Accepts the agent's push socket (the stream route has authenticated it) and redelivers. */
  override async fetch(request: Request): Promise<Response> {
    const header = (name: string) => request.headers.get(name)
    const clientId = header(SOCKET_HEADERS.clientId)
    const agentId = header(SOCKET_HEADERS.agentId)
    const instanceId = header(SOCKET_HEADERS.instanceId)
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket' || !clientId || !agentId || !instanceId) {
      return new Response('expected an agent websocket', { status: 426 })
    }
    if (!this.owner({ clientId, agentId })) return new Response('agent not found', { status: 404 })
    const now = Date.now()
    const facts: SocketFacts = { instanceId, agentVersion: header(SOCKET_HEADERS.agentVersion), connectedAt: now }
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
    this.ctx.acceptWebSocket(server, [instanceId])
    server.serializeAttachment(facts)
    send(server, { type: 'hello', agent_id: agentId, server_time: new Date(now).toISOString() })
    const { handed, changed } = queue.pollAsInstance(this.settle(now), instanceId, facts.agentVersion, now)
    for (const command of handed) send(server, { type: 'command', command: command.wire })
    store.saveCommands(this.sql, changed)
    this.ctx.waitUntil(this.afterChange(now))
    return new Response(null, { status: 101, webSocket: client })
  }

  override async webSocketMessage(socket: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const message = parseAgentMessage(data)
    const owner = store.readOwner(this.sql)
    if (!message || !owner) return
    const facts = socket.deserializeAttachment() as SocketFacts
    const ref = { ...owner, commandId: 'command_id' in message ? message.command_id : '', instanceId: facts.instanceId }
    switch (message.type) {
      case 'ack':
        await this.ack(ref)
        return
      case 'running':
        await this.running(ref)
        return
      case 'result':
        await this.executed({ ...ref, success: message.success, message: message.message })
        return
      case 'ping':
        return
      default:
        message satisfies never
    }
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    try {
      socket.close(code, reason)
    } catch {
      // Already closed by the runtime.
    }
  }

  /** The owner, learnt on first use and kept current; null when `ref` is another client's agent. */
  private owner(ref: AgentRef, update: Partial<Pick<store.Owner, 'agentVersion' | 'instanceId'>> = {}): store.Owner | null {
    const current = store.readOwner(this.sql)
    if (current && (current.clientId !== ref.clientId || current.agentId !== ref.agentId)) return null
    const next: store.Owner = {
      clientId: ref.clientId,
      agentId: ref.agentId,
      agentVersion: update.agentVersion !== undefined ? update.agentVersion : (current?.agentVersion ?? null),
      instanceId: update.instanceId ?? current?.instanceId ?? null,
      retired: current?.retired ?? false,
    }
    if (JSON.stringify(next) !== JSON.stringify(current)) store.writeOwner(this.sql, next)
    return next
  }

  /** Open commands after expiring the stale and failing lapsed leases (saved). */
  private settle(now: number): queue.QueuedCommand[] {
    const open = store.openCommands(this.sql)
    const finished = [...queue.expireStale(open, now), ...queue.releaseLapsedLeases(open, now)]
    store.saveCommands(this.sql, finished)
    const gone = new Set(finished.map((c) => c.id))
    return open.filter((c) => !gone.has(c.id))
  }

  private async move(input: AgentRef & { commandId: string }, decide: (c: queue.QueuedCommand, now: number) => queue.Move): Promise<MoveResult> {
    const now = Date.now()
    if (!this.owner(input)) return { ok: false, reason: 'not_found' }
    this.settle(now)
    const command = store.commandById(this.sql, input.commandId)
    if (!command) return { ok: false, reason: 'not_found' }
    const move = decide(command, now)
    switch (move.kind) {
      case 'changed':
        store.saveCommands(this.sql, [move.command])
        await this.afterChange(now)
        return { ok: true, status: move.command.status, changed: true }
      case 'unchanged':
        await this.afterChange(now)
        return { ok: true, status: move.command.status, changed: false }
      case 'refused':
        await this.afterChange(now)
        return { ok: false, reason: 'conflict', status: move.command.status, message: move.reason }
      default:
        return move satisfies never
    }
  }

  /** Pushes a new command to the sockets that should get it; how many got it. */
  private push(command: queue.QueuedCommand): number {
    const sockets = this.ctx.getWebSockets().map((socket) => ({ socket, facts: socket.deserializeAttachment() as SocketFacts }))
    return recipients(command, sockets).filter((socket) => send(socket, { type: 'command', command: command.wire })).length
  }

  /** Stores the next liveness state; the D1 statements it calls for. */
  private applyLiveness(step: LivenessStep, now: number) {
    store.writeLiveness(this.sql, step.next)
    const owner = store.readOwner(this.sql)
    return owner ? livenessWrites(this.db, owner, step, now) : []
  }

  /** Copies what changed to D1 (if anything did) and re-arms the alarm. */
  private async afterChange(now: number, writes: Parameters<AgentSession['sync']>[0] = []): Promise<void> {
    if (writes.length > 0 || store.hasUnsynced(this.sql)) await this.sync(writes)
    await this.schedule(now)
  }

  /** Copies changed commands (and `extra` statements) to D1 in one batch; on failure the alarm retries the commands. */
  private sync(extra: ReturnType<typeof livenessWrites> = []): Promise<void> {
    const run = this.syncing.then(async () => {
      const owner = store.readOwner(this.sql)
      const pending = store.unsyncedCommands(this.sql)
      if (!owner || (pending.length === 0 && extra.length === 0)) return
      try {
        await runBatch(this.db, [...extra, ...commandHistory(this.db, owner, pending.map((p) => p.command))])
        store.markSynced(this.sql, pending)
      } catch (error) {
        console.error(JSON.stringify({ level: 'error', message: 'agent history sync failed', agent_id: owner.agentId, error: String(error) }))
      }
    })
    this.syncing = run.catch(() => undefined)
    return run
  }

  /**
   * Arms the one alarm at the earliest due time: an expiry, a lease, the liveness deadline, a D1 retry.
   * Moved only earlier (an early alarm recomputes), except from the alarm handler itself (`rearm`).
   */
  private async schedule(now: number, rearm = false): Promise<void> {
    const candidates = [
      queue.nextQueueDue(store.openCommands(this.sql)),
      livenessDeadline(store.readLiveness(this.sql)),
      store.hasUnsynced(this.sql) ? now + SYNC_RETRY_MS : null,
    ].filter((t): t is number => t !== null)
    if (candidates.length === 0) return
    const due = Math.min(...candidates)
    const current = rearm ? null : await this.ctx.storage.getAlarm()
    if (current === null || due < current) await this.ctx.storage.setAlarm(due)
  }
}

/** The Durable Object of an agent. */
export function sessionOf(env: Env, agentId: string) {
  return env.AGENT_SESSION.get(env.AGENT_SESSION.idFromName(agentId))
}
