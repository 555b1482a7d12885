import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { Link } from '../../agent/src/link'
import { openStream, PING_INTERVAL_MS, PONG_WAIT_REAL_MS } from '../../agent/src/link/socket'
import { memoryLog } from '../../agent/src/log'
import { memoryState } from '../../agent/src/state'
import { SOCKET_PING, SOCKET_PONG } from '../../src/protocol'
import { manualClock } from './support/clock'
import { recordingHttp } from './support/http'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

/**
 * A push-socket server that hands each connection and its messages to the test. It answers the exact
 * ping frame with the pong frame, as the runtime's auto-response does, unless `mute` (a half-open link).
 */
async function server() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  const connections: WebSocket[] = []
  const messages: unknown[] = []
  const waiters: Array<() => void> = []
  const state = { mute: false }
  const changed = () => waiters.splice(0).forEach((w) => w())
  wss.on('connection', (ws) => {
    connections.push(ws)
    ws.on('message', (data) => {
      if (data.toString() === SOCKET_PING && !state.mute) ws.send(SOCKET_PONG)
      messages.push(JSON.parse(data.toString()))
      changed()
    })
    changed()
  })
  cleanup.push(() => new Promise<void>((resolve) => {
    for (const c of wss.clients) c.terminate()
    wss.close(() => resolve())
  }))
  const until = async (check: () => boolean) => {
    while (!check()) await new Promise<void>((r) => waiters.push(r))
  }
  return { url: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`, connections, messages, until, state }
}

function stream(url: string, clock: ReturnType<typeof manualClock>) {
  const stop = new AbortController()
  cleanup.push(() => stop.abort())
  const opens: boolean[] = []
  const received: string[] = []
  const s = openStream({
    serverUrl: url, token: 't', agentId: 'ag-1', instanceId: 'i-1', clock, log: memoryLog(), signal: stop.signal,
    onMessage: (m) => void received.push(m.type),
    onOpenChange: (open) => opens.push(open),
  })
  return { s, opens, received }
}

describe('push socket keep-alive', () => {
  it('pings every 30 s while open, and only then', async () => {
    const srv = await server()
    const clock = manualClock()
    const { s, received } = stream(srv.url, clock)
    await srv.until(() => srv.connections.length === 1)
    while (!s.isOpen) await new Promise((r) => setImmediate(r))
    await clock.advance(PING_INTERVAL_MS - 1)
    expect(srv.messages).toEqual([])
    await clock.advance(1)
    await srv.until(() => srv.messages.length === 1)
    while (!received.includes('pong')) await new Promise((r) => setImmediate(r))
    await clock.advance(PING_INTERVAL_MS)
    await srv.until(() => srv.messages.length === 2)
    expect(srv.messages).toEqual([{ type: 'ping' }, { type: 'ping' }])
  })

  it('reconnects after the connection dies, and pings on the new one', async () => {
    const srv = await server()
    const clock = manualClock()
    const { s, opens } = stream(srv.url, clock)
    await srv.until(() => srv.connections.length === 1)
    while (!s.isOpen) await new Promise((r) => setImmediate(r))
    srv.connections[0]!.terminate()
    while (s.isOpen) await new Promise((r) => setImmediate(r))
    // The old connection's ping loop is gone: only the reconnect backoff (≤ 1.2 s after an open) sleeps.
    while (clock.sleeping === 0) await new Promise((r) => setImmediate(r))
    expect(clock.sleeping).toBe(1)
    await clock.advance(1_200)
    await srv.until(() => srv.connections.length === 2)
    while (!s.isOpen) await new Promise((r) => setImmediate(r))
    expect(opens).toEqual([true, false, true])
    await clock.advance(PING_INTERVAL_MS)
    await srv.until(() => srv.messages.length === 1)
    expect(srv.messages).toEqual([{ type: 'ping' }])
  })
})

/**
 * An open stream whose first ping was answered (so silence counts from then on), on a server that then
 * goes mute: a half-open link.
 */
async function answeredThenMuted(clock: ReturnType<typeof manualClock>) {
  const srv = await server()
  const { s, opens, received } = stream(srv.url, clock)
  await srv.until(() => srv.connections.length === 1)
  while (!s.isOpen) await new Promise((r) => setImmediate(r))
  await clock.advance(PING_INTERVAL_MS)
  while (!received.includes('pong')) await new Promise((r) => setImmediate(r))
  srv.state.mute = true
  return { srv, s, opens }
}

describe('a half-open push socket', () => {
  it('is dropped when a ping is still unanswered as the next one is due, and the agent reconnects', async () => {
    const clock = manualClock()
    const { srv, s, opens } = await answeredThenMuted(clock)
    await clock.advance(PING_INTERVAL_MS)
    await srv.until(() => srv.messages.length === 2)
    expect(s.isOpen).toBe(true)
    // Nothing came back for the second ping by the third: the connection is given up.
    await clock.advance(PING_INTERVAL_MS)
    while (s.isOpen) await new Promise((r) => setImmediate(r))
    expect(srv.messages).toHaveLength(2)
    srv.state.mute = false
    while (clock.sleeping === 0) await new Promise((r) => setImmediate(r))
    await clock.advance(1_200)
    await srv.until(() => srv.connections.length === 2)
    while (!s.isOpen) await new Promise((r) => setImmediate(r))
    expect(opens).toEqual([true, false, true])
  })
})

describe('a slow pong under a simulated clock', () => {
  it('is not silence until PONG_WAIT_REAL_MS of real time passed, however fast the clock runs', async () => {
    const speed = 80
    const clock = manualClock(undefined, speed)
    const { srv, s, opens } = await answeredThenMuted(clock)
    // 375 real ms per ping interval at 80×: pings go on, the connection stays while the wait is short.
    const intervalsInWait = Math.ceil((PONG_WAIT_REAL_MS * speed) / PING_INTERVAL_MS)
    for (let n = 1; n <= intervalsInWait; n++) await clock.advance(PING_INTERVAL_MS)
    await srv.until(() => srv.messages.length === intervalsInWait + 1)
    expect(s.isOpen).toBe(true)
    await clock.advance(PING_INTERVAL_MS)
    while (s.isOpen) await new Promise((r) => setImmediate(r))
    expect(opens).toEqual([true, false])
  })
})

describe('a control plane that never answers pings (older than the agent)', () => {
  it('keeps the connection: silence counts only once a pong came', async () => {
    const srv = await server()
    srv.state.mute = true
    const clock = manualClock()
    const { s, opens } = stream(srv.url, clock)
    await srv.until(() => srv.connections.length === 1)
    while (!s.isOpen) await new Promise((r) => setImmediate(r))
    for (let n = 1; n <= 3; n++) {
      await clock.advance(PING_INTERVAL_MS)
      await srv.until(() => srv.messages.length === n)
    }
    expect(s.isOpen).toBe(true)
    expect(opens).toEqual([true])
  })
})

describe("the control plane's time", () => {
  it("a hello's server_time sets the clock a command's expires_at is checked against, which then runs on", async () => {
    const srv = await server()
    const clock = manualClock()
    const stop = new AbortController()
    cleanup.push(() => stop.abort())
    const link = new Link({ http: recordingHttp(), state: memoryState(clock.now), clock, log: memoryLog(), serverUrl: srv.url, token: 't', signal: stop.signal })
    link.agentId = 'ag-1'
    expect(link.serverNow()).toBe(clock.now()) // nothing heard yet: the agent's own clock
    const received: string[] = []
    link.openStream('i-1', (m) => void received.push(m.type), () => undefined)
    await srv.until(() => srv.connections.length === 1)
    const serverTime = clock.now() + 3_600_000
    srv.connections[0]!.send(JSON.stringify({ type: 'hello', agent_id: 'ag-1', server_time: new Date(serverTime).toISOString() }))
    while (received.length === 0) await new Promise((r) => setImmediate(r))
    expect(received).toEqual(['hello'])
    expect(link.serverNow()).toBe(serverTime)
    await clock.advance(1_000)
    expect(link.serverNow()).toBe(serverTime + 1_000)
  })
})
