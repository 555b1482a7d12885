/**
 * The per-agent Durable Object: live command queue, push socket, liveness and its one alarm. The
 * socket's `ping` is answered by the runtime without waking the object (setWebSocketAutoResponse); its
 * time is read back as a sign of life (docs/agent-api.md, the push socket).
 * A thin shell: the decisions are the pure functions of queue.ts and liveness.ts, storage is store.ts,
 * D1 writes are history.ts. Public async methods are the RPC API; `fetch` only accepts the socket.
 */
import { DurableObject } from 'cloudflare:workers'
import { database } from '../db/client'
import { meteredD1 } from '../db/d1-meter'
import { settingsOf, type Env } from '../env'
import { newId, timingSafeEqual } from '../ids'
import {
  isLegacyAgent,
  PRIORITY,
  SOCKET_PING,
  SOCKET_PONG,
  type AgentMessage,
  type Command,
} from '../protocol'
import { TrustedTokens, type ProvenToken } from './credentials'
import { SessionEffects } from './effects'
import { applyHeartbeat, applyRegistration, checkSilence, livenessAt, withPings } from './liveness'
import * as moves from './moves'
import { mergeOwner, type Owner } from './owner'
import * as queue from './queue'
import { countDoRequest } from './request-meter'
import {
  heartbeatInput,
  lastHeardOn,
  parseAgentMessage,
  readConnect,
  recipients,
  send,
  type SocketFacts,
} from './socket'
import * as store from './store'
import type { AgentSessionRpc } from './stub'
import type {
  AgentLiveness,
  AgentRef,
  ClaimInput,
  EnqueueResult,
  HeartbeatInput,
  HeartbeatResult,
  HttpHeartbeat,
  MoveResult,
  NewCommand,
  PollInput,
  QueuedCommand,
  ProgressInput,
  Registration,
  ResultInput,
} from './types'
import { clock, configureClock } from '../clock'
import { endedPromotion, followPromotionCommand } from '../flows/replicas/promotion-outcome'
import { endedTermination, followReplicaTermination } from '../flows/replicas/termination-outcome'
import { followInstanceEnd, instanceEndOutcome } from '../flows/switch/switched-away'
import { failedSwitchOf, notifyFailedSwitch } from '../flows/switch/failed'
import { recordCapacityError, switchCapacityError } from '../flows/capacity'

export class AgentSession extends DurableObject<Env> implements AgentSessionRpc {
  private readonly sql: SqlStorage
  private readonly effects: SessionEffects
  /** Tokens proven in D1 for this agent (credentials.ts); memory only. */
  private readonly tokens = new TrustedTokens(timingSafeEqual)
  /**
   * The last unchanged HTTP heartbeat's time, epoch ms, in memory only: it is stored when it moves the
   * alarm (about 1 in 3 at 30 s; effects.ts MOVE_LATER_WITHIN_MS), so the stored last sign of life is
   * the one the alarm was set from. A new instance loses it: its alarm still rings by 120 s after the
   * stored time, within 60 s before the lost one's deadline, so silence is never detected late; a live
   * agent's next heartbeat (30 s) comes before it and moves it (docs/benchmarks.md, heartbeat cost).
   */
  private heardByHttp: number | null = null

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    configureClock(settingsOf(env).simClock)
    this.sql = ctx.storage.sql
    this.effects = new SessionEffects(this.sql, database(meteredD1(env)), ctx.storage, () =>
      this.heardUnstored(),
    )
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(SOCKET_PING, SOCKET_PONG))
    void ctx.blockConcurrencyWhile(async () => store.createTables(this.sql))
  }

  /** Queues a command; a connected agent gets it pushed at once. */
  async enqueue(input: NewCommand): Promise<EnqueueResult> {
    const now = clock.now()
    const owner = this.owner(input)
    if (!owner || owner.retired) return { ok: false, reason: 'unsupported', message: 'agent not found' }
    const open = this.settle(now)
    const duplicate = queue.findDuplicate(open, input.dedupeKey)
    if (duplicate) {
      await this.effects.afterChange(now)
      return { ok: false, reason: 'duplicate', commandId: duplicate.id }
    }
    const created = queue.createCommand(input, newId('cmd'), now)
    if (!created.ok) {
      await this.effects.afterChange(now)
      return { ok: false, reason: 'unsupported', message: created.message }
    }
    const pushedTo = this.push(created.command)
    store.saveCommands(this.sql, [pushedTo > 0 ? queue.delivered(created.command, now) : created.command])
    await this.effects.afterChange(now)
    return { ok: true, commandId: created.command.id }
  }

  /**
   * The agent registered (again), possibly from a new instance: that completes a switch it claimed.
   * Its tokens are proven again (registered with its identity, a client token no longer speaks for it).
   */
  async registered(registration: Registration): Promise<void> {
    const now = clock.now()
    this.tokens.forget()
    const owner = this.owner(registration, {
      agentVersion: registration.agentVersion,
      instanceId: registration.instanceId,
    })
    if (!owner || owner.retired) return
    store.saveCommands(this.sql, moves.completeSwitches(this.settle(now), registration.instanceId, now))
    this.effects.liveness(applyRegistration(store.readLiveness(this.sql), registration.instanceId, now), now)
    await this.effects.afterChange(now)
  }

  /**
   * An HTTP heartbeat, authenticated here by its token's hash (credentials.ts): no D1 read while the
   * object trusts the token. Absorbed here; D1 hears only of changes and a periodic refresh.
   */
  async heartbeat(input: HttpHeartbeat): Promise<HeartbeatResult> {
    const now = clock.now()
    const credential = this.credentialOf(input, now)
    if (!credential) return { ok: false, reason: 'unknown_token', epoch: this.tokens.epoch }
    const stored = store.readAgentFacts(this.sql)
    // A proof teaches the owner (the route checked in D1 that the client owns the agent).
    const owner = input.proof
      ? this.owner({ clientId: credential.clientId, agentId: input.agentId })
      : stored.owner
    if (!owner || owner.retired || owner.clientId !== credential.clientId || owner.agentId !== input.agentId)
      return { ok: false, reason: 'not_found' }
    const bound = credential.instanceId
    if (bound !== null && input.instanceId !== null && input.instanceId !== bound)
      return { ok: false, reason: 'wrong_instance' }
    const heartbeat = { ...input, instanceId: bound ?? input.instanceId }
    const step = applyHeartbeat(stored.liveness, heartbeat, now)
    if (step.write || step.notify) {
      this.effects.liveness(step, now)
      await this.effects.sync()
      await this.effects.schedule(now, 'heartbeat')
      return { ok: true }
    }
    // Unchanged: its time stays in memory, stored only with the alarm it moves (see heardByHttp).
    this.heardByHttp = now
    if (await this.effects.schedule(now, 'heartbeat')) this.effects.liveness(step, now)
    return { ok: true }
  }

  /**
   * Status and last sign of life now, fresher than D1's copy (refreshed every 5 minutes): what pages
   * and APIs show. Null before the object heard the agent, and for another client's or a deleted agent.
   */
  async liveness(ref: AgentRef): Promise<AgentLiveness | null> {
    const owner = store.readOwner(this.sql)
    if (!owner || owner.retired || owner.clientId !== ref.clientId || owner.agentId !== ref.agentId)
      return null
    return livenessAt(this.currentLiveness(), clock.now())
  }

  /**
   * `pending-commands`: claimable commands for an instance, or one leased command for a legacy poller.
   * (The route answers a poll itself while D1's copy of the queue has nothing open.) A poll that changes
   * nothing, e.g. a leased command asked for again, leaves D1 and the alarm alone: nothing has moved.
   */
  async pendingCommands(input: PollInput): Promise<Command[] | null> {
    const now = clock.now()
    const owner = this.owner(input, { agentVersion: input.agentVersion })
    if (!owner) return null
    const { open, finished } = this.settled(now)
    let handed: QueuedCommand[]
    let changed: QueuedCommand[]
    if (input.instanceId !== null && !isLegacyAgent(input.agentVersion)) {
      ;({ handed, changed } = queue.pollAsInstance(open, input.instanceId, input.agentVersion, now))
    } else {
      // A legacy poll naming another instance than the agent's own gets nothing (its lease is bound there).
      const isOwnInstance = input.instanceId === null || input.instanceId === owner.instanceId
      const leased = isOwnInstance
        ? queue.pollAsLegacy(open, input.agentVersion, owner.instanceId, now)
        : null
      handed = changed = leased ? [leased] : []
    }
    if (finished.length > 0 || changed.length > 0) {
      store.saveCommands(this.sql, changed)
      await this.effects.afterChange(now)
    }
    return handed.filter((c) => isServed(owner, c)).map((c) => c.wire)
  }

  /** The new agent claims a command (HTTP or socket `ack`); only the first claim wins. */
  async ack(input: ClaimInput): Promise<MoveResult> {
    return this.move(input, (c, now) => moves.ack(c, input.instanceId, now))
  }

  /** The claimer started running the command, or reports a step of it: either renews its lease. */
  async running(input: ProgressInput): Promise<MoveResult> {
    return this.move(input, (c, now) => moves.markRunning(c, input.instanceId, input.step, now))
  }

  /** `executed`: success → completed, else failed; a repeat changes nothing. */
  async executed(input: ResultInput): Promise<MoveResult> {
    return this.move(input, (c, now) => moves.report(c, input.success, input.message, input.instanceId, now))
  }

  /**
   * The agent was deleted: heartbeats are answered like an unknown agent's, silence no longer makes
   * news, and its open commands are cancelled except `uninstall` (still pushed to a connected agent).
   */
  async retire(ref: AgentRef): Promise<void> {
    const now = clock.now()
    const owner = this.owner(ref)
    if (!owner) return
    this.tokens.forget()
    store.writeOwner(this.sql, { ...owner, retired: true })
    store.saveCommands(this.sql, moves.cancelAll(this.settle(now), now, ['uninstall']))
    store.writeLiveness(this.sql, { ...store.readLiveness(this.sql), status: 'offline' })
    await this.effects.afterChange(now)
  }

  /**
   * A deleted agent registered (D1 says deleted; a restart, or it was offline when deleted): the
   * `uninstall` for the instance it registered from, queued again when none is open for it (the first
   * one may have expired unclaimed, or named another instance). Its id; null for an agent that knows
   * no uninstall (legacy agents).
   */
  async uninstallFor(registration: Registration): Promise<string | null> {
    const owner = this.owner(registration, { agentVersion: registration.agentVersion })
    if (!owner) return null
    if (!owner.retired) await this.retire(registration)
    const now = clock.now()
    const open = this.settle(now)
    const uninstall = open.find(
      (c) => c.commandType === 'uninstall' && c.instanceId === registration.instanceId,
    )
    if (uninstall) {
      await this.effects.afterChange(now)
      return uninstall.id
    }
    const created = queue.createCommand(
      {
        ...registration,
        commandType: 'uninstall',
        priority: PRIORITY.manual,
        source: 'system',
        dedupeKey: `uninstall:${registration.instanceId}`,
      },
      newId('cmd'),
      now,
    )
    if (!created.ok) {
      await this.effects.afterChange(now)
      return null
    }
    store.saveCommands(this.sql, [created.command])
    await this.effects.afterChange(now)
    return created.command.id
  }

  /**
   * What its tokens prove changed (the operator reset its agent tokens; its client's tokens were
   * rotated or revoked, the client suspended or deleted): the next HTTP heartbeat is proven in D1.
   * `endSockets`: a token may no longer be good, and a socket proved its token only at connect: each
   * is closed, and the agent's reconnect is proven in D1 as well.
   */
  async forgetTokens({ endSockets }: { endSockets: boolean }): Promise<void> {
    this.tokens.forget()
    if (!endSockets) return
    for (const socket of this.ctx.getWebSockets()) socket.close(CREDENTIALS_CHANGED, 'credentials changed')
  }

  /** A deleted agent was re-enabled: it is served again. */
  async reinstate(ref: AgentRef): Promise<void> {
    const owner = this.owner(ref)
    if (owner?.retired) store.writeOwner(this.sql, { ...owner, retired: false })
  }

  /** The agent's config changed (its pricing role): each socket is told to fetch it; how many were. */
  async configChanged(): Promise<number> {
    return this.ctx.getWebSockets().filter((socket) => send(socket, { type: 'config_changed' })).length
  }

  /**
   * Expiries, lapsed leases, silence and D1 retries; recomputes itself, so running twice is harmless.
   * Counted by what it rang for (`alarm offline`, `alarm early`...: effects.dueNow).
   */
  override async alarm(): Promise<void> {
    const started = performance.now()
    const now = clock.now()
    const kind = this.effects.dueNow(now)
    this.settle(now)
    this.effects.liveness(checkSilence(this.currentLiveness(), now), now)
    await this.effects.sync()
    store.pruneFinished(this.sql, now)
    await this.effects.schedule(now, 'alarm')
    countDoRequest(`alarm ${kind}`, performance.now() - started)
  }

  /** Accepts the agent's push socket (the stream route has authenticated it) and redelivers. */
  override async fetch(request: Request): Promise<Response> {
    const now = clock.now()
    const connect = readConnect(request, now)
    if (!connect) return new Response('expected an agent websocket', { status: 426 })
    const owner = this.owner(connect.ref)
    if (!owner) return new Response('agent not found', { status: 404 })
    const { facts } = connect
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
    this.ctx.acceptWebSocket(server, [facts.instanceId])
    server.serializeAttachment(facts)
    send(server, { type: 'hello', agent_id: connect.ref.agentId, server_time: new Date(now).toISOString() })
    const { handed, changed } = queue.pollAsInstance(
      this.settle(now),
      facts.instanceId,
      facts.agentVersion,
      now,
    )
    for (const command of handed.filter((c) => isServed(owner, c)))
      send(server, { type: 'command', command: command.wire })
    store.saveCommands(this.sql, changed)
    this.ctx.waitUntil(this.effects.afterChange(now))
    return new Response(null, { status: 101, webSocket: client })
  }

  /** Counted by kind with its time (session/request-meter.ts): each message that wakes the object is billed. */
  override async webSocketMessage(socket: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const started = performance.now()
    const message = parseAgentMessage(data)
    try {
      await this.handleMessage(socket, message)
    } finally {
      countDoRequest(`message ${message?.type ?? 'unparsed'}`, performance.now() - started)
    }
  }

  /** An agent's message; anything unparsed, or before the object knows its owner, is dropped. */
  private async handleMessage(socket: WebSocket, message: AgentMessage | null): Promise<void> {
    const owner = store.readOwner(this.sql)
    if (!message || !owner) return
    const facts = socket.deserializeAttachment() as SocketFacts
    const ref = {
      ...owner,
      commandId: 'command_id' in message ? message.command_id : '',
      instanceId: facts.instanceId,
    }
    switch (message.type) {
      case 'ack':
        await this.ack(ref)
        return
      case 'running':
        await this.running({ ...ref, step: message.step ?? null })
        return
      case 'result':
        await this.executed({ ...ref, success: message.success, message: message.message })
        return
      case 'heartbeat':
        if (await this.socketHeartbeat(socket, facts, heartbeatInput(message, owner, facts)))
          send(socket, { type: 'heartbeat_ok', server_time: new Date(clock.now()).toISOString() })
        return
      case 'ping':
        // Not the exact auto-response frame (other spacing): answered, not counted.
        send(socket, { type: 'pong' })
        return
      default:
        message satisfies never
    }
  }

  /**
   * A socket ended (the agent stopped or lost its connection, its instance ended): its last ping or
   * heartbeat is kept as the last sign of life, and the one alarm rings by the silence deadline from
   * there, unless the agent is heard again (it reconnects, or POSTs its heartbeat the moment its socket
   * is down).
   */
  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    try {
      socket.close(code, reason)
    } catch {
      // Already closed by the runtime.
    }
    await this.socketEnded(socket)
  }

  override async webSocketError(socket: WebSocket): Promise<void> {
    await this.socketEnded(socket)
  }

  /**
   * A socket heartbeat: as `heartbeat`, except that one calling for no D1 write (nothing changed, no
   * refresh due) leaves the stored liveness alone and keeps its time in the socket's attachment. True
   * when the agent is served.
   */
  private async socketHeartbeat(
    socket: WebSocket,
    facts: SocketFacts,
    input: HeartbeatInput,
  ): Promise<boolean> {
    const now = clock.now()
    const owner = this.owner(input)
    if (!owner || owner.retired) return false
    const step = applyHeartbeat(store.readLiveness(this.sql), input, now)
    if (step.write || step.notify) {
      this.effects.liveness(step, now)
      await this.effects.sync()
    } else socket.serializeAttachment({ ...facts, heardAt: now } satisfies SocketFacts)
    await this.effects.schedule(now, 'socket heartbeat')
    return true
  }

  /** A socket ended: what it last heard (ping or heartbeat) becomes the stored last sign of life. */
  private async socketEnded(socket: WebSocket): Promise<void> {
    const live = store.readLiveness(this.sql)
    const facts = socket.deserializeAttachment() as SocketFacts
    const pingedAt = (ws: WebSocket) => this.ctx.getWebSocketAutoResponseTimestamp(ws)
    const seen = withPings(live, lastHeardOn([{ socket, facts }], pingedAt, clock.timeOfReal))
    if (seen !== live) store.writeLiveness(this.sql, seen)
    await this.effects.schedule(clock.now())
  }

  /** The stored liveness with what was heard since and not stored counted. */
  private currentLiveness() {
    return withPings(store.readLiveness(this.sql), this.heardUnstored())
  }

  /** The newest sign of life not stored: on the open sockets, or an HTTP heartbeat in memory; epoch ms. */
  private heardUnstored(): number | null {
    const onSockets = this.heardOnSockets()
    if (onSockets === null || this.heardByHttp === null) return onSockets ?? this.heardByHttp
    return Math.max(onSockets, this.heardByHttp)
  }

  /**
   * The newest sign of life on the open sockets (automatic ping, unchanged heartbeat), epoch ms; null:
   * none. A closed socket's was stored when it closed (socketEnded).
   */
  private heardOnSockets(): number | null {
    const open = this.ctx
      .getWebSockets()
      .filter((ws) => ws.readyState === WebSocket.OPEN)
      .map((socket) => ({ socket, facts: socket.deserializeAttachment() as SocketFacts }))
    return lastHeardOn(open, (ws) => this.ctx.getWebSocketAutoResponseTimestamp(ws), clock.timeOfReal)
  }

  /**
   * Who a heartbeat's token speaks for: a trusted one, or the route's proof (remembered unless a forget
   * came in between: the proof may predate it, and vouches for this one call only); null: D1 is asked.
   */
  private credentialOf(input: HttpHeartbeat, now: number): Omit<ProvenToken, 'expiresAt'> | null {
    if (!input.proof) return this.tokens.find(input.tokenHash, now)
    this.tokens.remember(input.tokenHash, input.proof.token, input.proof.epoch, now)
    return input.proof.token
  }

  /** The owner, learnt on first use and kept current; null when `ref` is another client's agent. */
  private owner(
    ref: AgentRef,
    update: Partial<Pick<Owner, 'agentVersion' | 'instanceId'>> = {},
  ): Owner | null {
    const current = store.readOwner(this.sql)
    const next = mergeOwner(current, ref, update)
    if (next && JSON.stringify(next) !== JSON.stringify(current)) store.writeOwner(this.sql, next)
    return next
  }

  /** Open commands after expiring the stale and failing lapsed leases (saved). */
  private settle(now: number): QueuedCommand[] {
    return this.settled(now).open
  }

  /** `settle`, saying too which commands it finished. */
  private settled(now: number): { open: QueuedCommand[]; finished: QueuedCommand[] } {
    const { open, finished } = queue.settle(store.openCommands(this.sql), now)
    store.saveCommands(this.sql, finished)
    this.followEnded(finished)
    return { open, finished }
  }

  /**
   * Commands that ended and have a follow-up: a promotion's (failover time, or the failure and a retry),
   * a replica termination (the replica ended, or when it terminated nothing handed to the workload's
   * instance, or notified), an instance's end confirmed by `terminate_instance` (its row ended) or not
   * (notified), a switch that failed or expired (notified).
   */
  private followEnded(commands: readonly QueuedCommand[]): void {
    const owner = store.readOwner(this.sql)
    if (!owner) return
    for (const c of commands) {
      const promotion = endedPromotion(c)
      if (promotion)
        this.ctx.waitUntil(followPromotionCommand(this.env, database(meteredD1(this.env)), owner, promotion))
      const termination = endedTermination(c)
      if (termination)
        this.ctx.waitUntil(
          followReplicaTermination(this.env, database(meteredD1(this.env)), owner, termination),
        )
      const instanceEnd = instanceEndOutcome(c)
      if (instanceEnd)
        this.ctx.waitUntil(followInstanceEnd(database(meteredD1(this.env)), owner, instanceEnd))
      const failedSwitch = failedSwitchOf(c)
      if (failedSwitch)
        this.ctx.waitUntil(notifyFailedSwitch(database(meteredD1(this.env)), owner, failedSwitch))
      const capacityError = switchCapacityError(c)
      if (capacityError)
        this.ctx.waitUntil(recordCapacityError(database(meteredD1(this.env)), owner, capacityError))
    }
  }

  private async move(
    input: AgentRef & { commandId: string },
    decide: (c: QueuedCommand, now: number) => moves.Move,
  ): Promise<MoveResult> {
    const now = clock.now()
    const owner = this.owner(input)
    if (!owner) return { ok: false, reason: 'not_found' }
    this.settle(now)
    const command = store.commandById(this.sql, input.commandId)
    if (!command || !isServed(owner, command)) return { ok: false, reason: 'not_found' }
    const move = decide(command, now)
    switch (move.kind) {
      case 'changed':
        store.saveCommands(this.sql, [move.command])
        this.followEnded([move.command])
        await this.effects.afterChange(now)
        return { ok: true, status: move.command.status, changed: true }
      case 'unchanged':
        await this.effects.afterChange(now)
        return { ok: true, status: move.command.status, changed: false }
      case 'refused':
        await this.effects.afterChange(now)
        return { ok: false, reason: 'conflict', status: move.command.status, message: move.reason }
      default:
        return move satisfies never
    }
  }

  /** Pushes a new command to the sockets that should get it; how many got it. */
  private push(command: QueuedCommand): number {
    const sockets = this.ctx
      .getWebSockets()
      .map((socket) => ({ socket, facts: socket.deserializeAttachment() as SocketFacts }))
    return recipients(command, sockets).filter((socket) =>
      send(socket, { type: 'command', command: command.wire }),
    ).length
  }
}

/** The close code of a socket ended by `forgetTokens` (an application code: the agent reconnects). */
const CREDENTIALS_CHANGED = 4001

/** A deleted (retired) agent is served its `uninstall` only: its routes still reach it for that. */
function isServed(owner: Owner, command: QueuedCommand): boolean {
  return !owner.retired || command.commandType === 'uninstall'
}
