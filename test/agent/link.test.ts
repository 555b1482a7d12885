import { describe, expect, it } from 'vitest'
import { Link, OUTBOX_MAX_AGE_MS, OUTBOX_MIN_ATTEMPTS } from '../../agent/src/link'
import { parseCommands } from '../../agent/src/link/http'
import { streamUrl } from '../../agent/src/link/socket'
import { memoryLog } from '../../agent/src/log'
import { memoryState } from '../../agent/src/state'
import { manualClock } from './support/clock'
import { recordingHttp } from './support/http'

function link(http = recordingHttp()) {
  const clock = manualClock()
  const state = memoryState(clock.now)
  const log = memoryLog()
  const l = new Link({ http, state, clock, log, serverUrl: 'http://cp', token: 't', signal: new AbortController().signal })
  l.agentId = 'ag-1'
  return { l, http, clock, state, log }
}

const settle = async () => {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r))
}

describe('Link outbox', () => {
  it('delivers reports in order', async () => {
    const { l, http } = link()
    l.report('switch:c1', 'POST', '/switch-report', { a: 1 })
    l.report('executed:c1', 'POST', '/commands/c1/executed', { success: true })
    expect(await l.delivered('switch:c1')).toBe(true)
    expect(await l.delivered('executed:c1')).toBe(true)
    expect(http.calls.map((c) => c.path)).toEqual(['/api/agents/ag-1/switch-report', '/api/agents/ag-1/commands/c1/executed'])
  })

  it('keeps a report while the control plane is down and delivers it when it is back', async () => {
    let down = true
    const { l, http, clock, state } = link(recordingHttp([() => (down ? { status: 0 } : undefined)]))
    l.report('cleanup:1', 'POST', '/cleanup-report', { x: 1 })
    await settle()
    await clock.advance(1000)
    await settle()
    await clock.advance(2000)
    await settle()
    expect(http.calls.length).toBe(3)
    expect(state.outbox()).toHaveLength(1)
    down = false
    const delivered = l.delivered('cleanup:1')
    await clock.advance(4000)
    expect(await delivered).toBe(true)
    expect(state.outbox()).toHaveLength(0)
  })

  it('delivers at once, not after its backoff, when another call gets an answer again', async () => {
    let down = true
    const { l, http, clock, state } = link(recordingHttp([() => (down ? { status: 0 } : undefined)]))
    l.report('switch:c1', 'POST', '/switch-report', { x: 1 })
    await settle()
    await clock.advance(1000)
    await settle()
    expect(http.calls).toHaveLength(2) // backing off for 2 s now
    // A 5xx is no sign of recovery: the backoff goes on.
    down = false
    http.on((c) => (c.path.endsWith('/config') ? { status: 503 } : undefined))
    await l.config()
    await settle()
    expect(http.calls.map((c) => c.path)).toEqual(['/api/agents/ag-1/switch-report', '/api/agents/ag-1/switch-report', '/api/agents/ag-1/config'])
    // Any answer below 500 is: the report goes out without the clock moving.
    await l.heartbeat({})
    await settle()
    expect(http.calls.at(-1)!.path).toBe('/api/agents/ag-1/switch-report')
    expect(state.outbox()).toEqual([])
  })

  it('stops draining when told to, keeping what it could not deliver', async () => {
    const { l, clock, state } = link(recordingHttp([() => ({ status: 0 })]))
    const stop = new AbortController()
    l.report('switch:c1', 'POST', '/switch-report', { x: 1 })
    const drained = l.drain(Infinity, stop.signal)
    await settle()
    await clock.advance(200)
    stop.abort()
    expect(await drained).toBe(false)
    expect(state.outbox()).toHaveLength(1)
  })

  it('retries 5xx and 429 but drops a report the control plane refuses for good', async () => {
    const { l, state } = link(recordingHttp([(c) => (c.path.endsWith('/cleanup-report') ? { status: 400 } : undefined)]))
    l.report('cleanup:1', 'POST', '/cleanup-report', {})
    expect(await l.delivered('cleanup:1')).toBe(false)
    expect(state.outbox()).toHaveLength(0)
  })

  it('gives up a report the control plane never takes after its bound, says why without its body, and delivers the ones behind it', async () => {
    const { l, http, clock, state, log } = link(recordingHttp([(c) => (c.path.endsWith('/switch-report') ? { status: 500 } : undefined)]))
    l.report('switch:c1', 'POST', '/switch-report', { secret: 'body-not-logged' })
    l.report('executed:c1', 'POST', '/commands/c1/executed', { success: true })
    const given = l.delivered('switch:c1')
    // Attempts enough, but young: a control plane down for hours gets its reports when it is back.
    for (let i = 0; i < OUTBOX_MIN_ATTEMPTS + 5; i++) {
      await settle()
      await clock.advance(10_000)
    }
    await settle()
    expect(state.outbox().map((o) => o.key)).toEqual(['switch:c1', 'executed:c1'])
    expect(http.calls.every((c) => c.path.endsWith('/switch-report'))).toBe(true)

    await clock.advance(OUTBOX_MAX_AGE_MS)
    expect(await given).toBe(false)
    expect(await l.delivered('executed:c1')).toBe(true)
    expect(state.outbox()).toEqual([])
    const line = log.lines.find((x) => x.msg === 'report undeliverable, given up')
    expect(line).toMatchObject({ key: 'switch:c1', status: 500 })
    expect(line!.attempts).toBeGreaterThanOrEqual(OUTBOX_MIN_ATTEMPTS)
    expect(JSON.stringify(log.lines)).not.toContain('body-not-logged')
  })

  it('retries a 401 (a token being rotated) instead of dropping the report', async () => {
    let refused = true
    const { l, clock, state } = link(recordingHttp([(c) => (refused && c.path.endsWith('/cleanup-report') ? { status: 401 } : undefined)]))
    l.report('cleanup:1', 'POST', '/cleanup-report', {})
    await settle()
    expect(state.outbox()).toHaveLength(1)
    refused = false
    const delivered = l.delivered('cleanup:1')
    await clock.advance(1000)
    expect(await delivered).toBe(true)
  })

  it('sends the newer version of a report replaced while the older one was in flight', async () => {
    const http = recordingHttp()
    const { l, state } = link(http)
    http.on((c) => {
      if (c.path.endsWith('/switch-report') && (c.body as { v: number }).v === 1) l.report('switch:c1', 'POST', '/switch-report', { v: 2 })
      return undefined
    })
    l.report('switch:c1', 'POST', '/switch-report', { v: 1 })
    await settle()
    expect(http.calls.map((c) => c.body)).toEqual([{ v: 1 }, { v: 2 }])
    expect(state.outbox()).toEqual([])
  })

  it('sends a queued report found in the state after a restart', async () => {
    const { l, http, state } = link()
    state.enqueue({ key: 'executed:c9', method: 'POST', path: '/api/agents/ag-1/commands/c9/executed', body: { success: true }, queuedAt: 0 })
    l.kick()
    expect(await l.delivered('executed:c9')).toBe(true)
    expect(http.calls[0]!.path).toBe('/api/agents/ag-1/commands/c9/executed')
  })
})

describe('parseCommands', () => {
  it('reads a bare array or {commands}, defaults a missing command_type to switch, and skips what it cannot read', () => {
    const log = memoryLog()
    const item = { id: 'c1', target_mode: 'spot', target_pool_id: 't3.medium.us-east-1b', priority: 75, terminate_wait_seconds: 0, created_at: '2026-01-01T00:00:00Z' }
    expect(parseCommands([item], log)).toEqual([expect.objectContaining({ id: 'c1', command_type: 'switch', instance_id: null })])
    expect(parseCommands({ commands: [item, { id: 'bad', command_type: 'launch_rockets' }] }, log).map((c) => c.id)).toEqual(['c1'])
    expect(log.lines.some((l) => l.msg === 'command not understood, skipped')).toBe(true)
  })
})

describe('streamUrl', () => {
  it('speaks ws(s) to the same origin and names the instance', () => {
    expect(streamUrl('https://cp.example.com', 'ag 1', 'i-1')).toBe('wss://cp.example.com/api/agents/ag%201/stream?instance_id=i-1')
    expect(streamUrl('http://127.0.0.1:8788', 'a', 'i-2')).toBe('ws://127.0.0.1:8788/api/agents/a/stream?instance_id=i-2')
  })
})
