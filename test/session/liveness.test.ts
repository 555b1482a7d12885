import { describe, expect, it } from 'vitest'
import {
  applyHeartbeat,
  applyRegistration,
  checkSilence,
  livenessDeadline,
  OFFLINE_AFTER_MS,
  REFRESH_AFTER_MS,
  UNKNOWN_LIVENESS,
  withPings,
  type Heartbeat,
  type Liveness,
} from '../../src/session/liveness'

const T0 = Date.UTC(2026, 0, 1)
const beat: Heartbeat = {
  status: 'online',
  instanceId: 'i-1',
  instanceType: 't3.medium',
  mode: 'spot',
  az: 'us-east-1a',
}

function run(beats: number, every: number): { state: Liveness; writes: number } {
  let state = UNKNOWN_LIVENESS
  let writes = 0
  for (let i = 0; i < beats; i++) {
    const step = applyHeartbeat(state, beat, T0 + i * every)
    if (step.write) writes++
    state = step.next
  }
  return { state, writes }
}

describe('heartbeats', () => {
  it('write D1 once, then only every few minutes while nothing changes', () => {
    const { writes } = run(120, 30_000)
    expect(writes).toBe(Math.ceil((120 * 30_000) / REFRESH_AFTER_MS))
  })

  it('write the facts that changed, and null keeps the old value', () => {
    const { state } = run(1, 30_000)
    const same = applyHeartbeat(state, { ...beat, instanceType: null, az: null }, T0 + 30_000)
    expect(same.write).toBeNull()
    expect(same.next.facts).toEqual(state.facts)
    const moved = applyHeartbeat(state, { ...beat, mode: 'ondemand' }, T0 + 30_000)
    expect(moved.write).toEqual({
      status: 'online',
      lastHeartbeatAt: T0 + 30_000,
      facts: { instanceId: 'i-1', mode: 'ondemand' },
    })
  })

  it('write a status change at once', () => {
    const { state } = run(1, 30_000)
    expect(applyHeartbeat(state, { ...beat, status: 'disabled' }, T0 + 1).write?.status).toBe('disabled')
  })
})

describe('offline detection', () => {
  it('goes offline after 120 s of silence, once, with a notification', () => {
    const { state } = run(1, 30_000)
    expect(livenessDeadline(state)).toBe(T0 + OFFLINE_AFTER_MS)
    expect(checkSilence(state, T0 + OFFLINE_AFTER_MS - 1)).toMatchObject({ write: null, notify: null })
    const off = checkSilence(state, T0 + OFFLINE_AFTER_MS)
    expect(off).toMatchObject({ notify: 'offline', write: { status: 'offline', lastHeartbeatAt: T0 } })
    expect(checkSilence(off.next, T0 + 10 * OFFLINE_AFTER_MS)).toMatchObject({ write: null, notify: null })
    expect(livenessDeadline(off.next)).toBeNull()
  })

  it('notifies when the agent comes back', () => {
    const { state } = run(1, 30_000)
    const off = checkSilence(state, T0 + OFFLINE_AFTER_MS).next
    expect(applyHeartbeat(off, beat, T0 + 200_000)).toMatchObject({
      notify: 'online',
      write: { status: 'online' },
    })
    expect(applyRegistration(off, 'i-2', T0 + 200_000)).toMatchObject({
      notify: 'online',
      next: { status: 'online' },
    })
  })

  it('takes a shutdown heartbeat as offline at once', () => {
    const { state } = run(1, 30_000)
    const down = applyHeartbeat(state, { ...beat, status: 'offline' }, T0 + 5000)
    expect(down).toMatchObject({ notify: 'offline', write: { status: 'offline' } })
    expect(livenessDeadline(down.next)).toBeNull()
  })

  it('writes online at once when the agent registers after its own offline heartbeat (a restart)', () => {
    const { state } = run(1, 30_000)
    const down = applyHeartbeat(state, { ...beat, status: 'offline' }, T0 + 5000).next
    const back = applyRegistration(down, 'i-1', T0 + 20_000)
    expect(back).toMatchObject({
      notify: 'online',
      write: { status: 'online', lastHeartbeatAt: T0 + 20_000 },
      next: { status: 'online', writtenAt: T0 + 20_000 },
    })
    expect(applyHeartbeat(back.next, beat, T0 + 50_000)).toMatchObject({ write: null, notify: null })
    expect(applyRegistration(back.next, 'i-1', T0 + 60_000)).toMatchObject({ write: null, notify: null })
  })

  it('says nothing about an agent it never heard from', () => {
    expect(checkSilence(UNKNOWN_LIVENESS, T0)).toMatchObject({ write: null, notify: null })
    expect(applyHeartbeat(UNKNOWN_LIVENESS, beat, T0).notify).toBeNull()
  })
})

describe('automatic pings (the socket)', () => {
  it('count as the last sign of life: the deadline runs from the newest ping', () => {
    const { state } = run(1, 30_000)
    const pinged = withPings(state, T0 + 100_000)
    expect(pinged.lastSeenAt).toBe(T0 + 100_000)
    expect(livenessDeadline(pinged)).toBe(T0 + 100_000 + OFFLINE_AFTER_MS)
    expect(checkSilence(pinged, T0 + OFFLINE_AFTER_MS + 1)).toMatchObject({ write: null, notify: null })
  })

  it('an older ping than the last heartbeat changes nothing', () => {
    const { state } = run(2, 30_000)
    expect(withPings(state, T0)).toBe(state)
    expect(withPings(state, null)).toBe(state)
  })

  it('once pings stop, the agent goes offline 120 s after the last one, its time in D1', () => {
    const { state } = run(1, 30_000)
    const off = checkSilence(withPings(state, T0 + 60_000), T0 + 60_000 + OFFLINE_AFTER_MS)
    expect(off).toMatchObject({
      notify: 'offline',
      write: { status: 'offline', lastHeartbeatAt: T0 + 60_000 },
    })
  })

  it('never bring back an offline agent (one that said offline may ping until its socket closes)', () => {
    const { state } = run(1, 30_000)
    const shutdown = applyHeartbeat(state, { ...beat, status: 'offline' }, T0 + 1_000).next
    expect(withPings(shutdown, T0 + 2_000)).toBe(shutdown)
    expect(withPings(UNKNOWN_LIVENESS, T0)).toBe(UNKNOWN_LIVENESS)
  })
})
