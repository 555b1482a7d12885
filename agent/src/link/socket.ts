/**
 * The push socket (GET /api/agents/:agentId/stream): commands arrive the moment they are queued.
 * Reconnects with backoff for as long as the agent runs; while it is down, polling and HTTP heartbeats
 * take over. A ping every 30 s (answered `pong` by the runtime without waking the control plane's
 * object, which reads its time as a sign of life) keeps idle proxies from dropping the connection and
 * finds a dead one: a send that fails, a socket error, or a ping with nothing heard back before the
 * next one (and for at least PONG_WAIT_REAL_MS of real time) ends the connection so the loop reconnects.
 */
import WebSocket from 'ws'
import { AgentMessage, ServerMessage, SOCKET_PING } from '../../../src/protocol'
import { backoffMs, realMsSince, type Clock } from '../clock'
import type { Log } from '../log'

export const PING_INTERVAL_MS = 30_000
/**
 * A pong is a round trip: under a simulated clock at 80× the next ping is due 375 real ms later, and a
 * busy control plane answering later than that is not a dead connection (dropping it churned sockets).
 */
export const PONG_WAIT_REAL_MS = 10_000

export interface Stream {
  readonly isOpen: boolean
  /** Sends when open; false when the socket is down (the caller falls back to HTTP). */
  send(message: AgentMessage): boolean
}

export interface StreamOptions {
  serverUrl: string
  token: string
  agentId: string
  instanceId: string
  clock: Clock
  log: Log
  onMessage(message: ServerMessage): void
  onOpenChange(isOpen: boolean): void
  signal: AbortSignal
}

/** The stream URL of an agent's instance (http → ws, https → wss). */
export function streamUrl(serverUrl: string, agentId: string, instanceId: string): string {
  const base = serverUrl.replace(/^http/, 'ws')
  return `${base}/api/agents/${encodeURIComponent(agentId)}/stream?instance_id=${encodeURIComponent(instanceId)}`
}

export function openStream(options: StreamOptions): Stream {
  const { clock, log, signal } = options
  let socket: WebSocket | null = null
  let isOpen = false

  const setOpen = (open: boolean) => {
    if (open === isOpen) return
    isOpen = open
    options.onOpenChange(open)
  }

  /** One connection's life; resolves when it ends. `true` when it had opened. */
  const connectOnce = () =>
    new Promise<boolean>((resolve) => {
      let opened = false
      const ws = new WebSocket(streamUrl(options.serverUrl, options.agentId, options.instanceId), {
        headers: { authorization: `Bearer ${options.token}` },
        handshakeTimeout: 10_000,
      })
      socket = ws
      const onAbort = () => ws.close(1000, 'agent stopping')
      signal.addEventListener('abort', onAbort, { once: true })
      const connectionEnded = new AbortController()
      /** The last message heard, epoch ms, and whether a pong was (an older control plane sends none). */
      const heard = { at: clock.now(), ponged: false }
      ws.on('open', () => {
        opened = true
        setOpen(true)
        log.info('push socket open')
        void keepAlive(ws, heard, AbortSignal.any([signal, connectionEnded.signal]))
      })
      ws.on('message', (data) => {
        heard.at = clock.now()
        let parsed
        try {
          parsed = ServerMessage.safeParse(JSON.parse(data.toString()))
        } catch {
          parsed = null
        }
        if (parsed?.success && parsed.data.type === 'pong') heard.ponged = true
        if (parsed?.success) options.onMessage(parsed.data)
        else log.warn('socket message not understood')
      })
      ws.on('unexpected-response', (_req, res) => {
        log.warn('push socket refused', { status: res.statusCode })
        ws.terminate()
      })
      ws.on('error', (err) => {
        log.debug('push socket error', { error: err.message })
        ws.terminate()
      })
      ws.on('close', (code, reason) => {
        connectionEnded.abort()
        signal.removeEventListener('abort', onAbort)
        socket = null
        setOpen(false)
        if (opened) log.info('push socket closed', { code, reason: reason.toString() })
        resolve(opened)
      })
    })

  /**
   * Pings every PING_INTERVAL_MS; once the connection has answered a pong, a ping with nothing heard
   * back by the time the next is due, and for PONG_WAIT_REAL_MS of real time, ends it (half-open: sends
   * vanish, nothing arrives).
   */
  const keepAlive = async (ws: WebSocket, heard: { at: number; ponged: boolean }, ended: AbortSignal) => {
    /** The oldest ping nothing was heard after. */
    let unansweredSince: number | null = null
    for (;;) {
      await clock.sleep(PING_INTERVAL_MS, ended)
      if (ended.aborted) return
      if (unansweredSince !== null && heard.at >= unansweredSince) unansweredSince = null
      if (
        heard.ponged &&
        unansweredSince !== null &&
        realMsSince(clock, unansweredSince) >= PONG_WAIT_REAL_MS
      ) {
        log.warn('push socket silent (no pong), reconnecting')
        ws.terminate()
        return
      }
      unansweredSince ??= clock.now()
      ws.send(SOCKET_PING, (err) => {
        if (!err) return
        log.debug('push socket ping failed, reconnecting', { error: err.message })
        ws.terminate()
      })
    }
  }

  void (async () => {
    let failures = 0
    while (!signal.aborted) {
      const hadOpened = await connectOnce()
      if (signal.aborted) break
      failures = hadOpened ? 0 : failures + 1
      const wait = backoffMs(failures, 1_000, 60_000) * (1 + Math.random() * 0.2)
      log.debug('push socket reconnecting', { in_ms: Math.round(wait) })
      await clock.sleep(wait, signal)
    }
  })()

  return {
    get isOpen() {
      return isOpen
    },
    send(message) {
      if (!socket || !isOpen) return false
      socket.send(JSON.stringify(AgentMessage.parse(message)))
      return true
    },
  }
}
