import { describe, expect, it } from 'vitest'
import {
  applyHeartbeat,
  applyRegistration,
  checkSilence,
  livenessDeadline,
  OFFLINE_AFTER_MS,
  REFRESH_AFTER_MS,
  UNKNOWN_LIVENESS,
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
