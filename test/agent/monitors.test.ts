import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createImds } from '../../agent/src/imds'
import { memoryLog } from '../../agent/src/log'
import { readInterruption } from '../../agent/src/monitors/interruption'
import type { Notice } from '../../agent/src/monitors/notice'
import { readRebalance } from '../../agent/src/monitors/rebalance'
import { readScheduledEvents } from '../../agent/src/monitors/scheduled'
import { createWatcher } from '../../agent/src/monitors/watcher'
import { imdsFor, seedWorkload, startFakeEc2, type FakeEc2, type FakeImds } from '../fakes'
import { instantClock, manualClock } from './support/clock'

let ec2: FakeEc2
let fake: FakeImds

beforeEach(async () => {
  ec2 = await startFakeEc2()
  fake = await imdsFor(ec2, seedWorkload(ec2, { lifecycle: 'spot' }).instanceId)
})
afterEach(async () => {
  await fake.close()
  await ec2.close()
})

describe('monitors', () => {
  it('see no notice while IMDS has none', async () => {
    const imds = createImds(fake.url, instantClock())
    expect(await readInterruption(imds)).toBeNull()
    expect(await readRebalance(imds)).toBeNull()
    expect(await readScheduledEvents(imds)).toEqual([])
  })

  it('read an interruption notice with a deterministic id', async () => {
    const imds = createImds(fake.url, instantClock())
    fake.interrupt({ action: 'terminate', time: Date.parse('2026-01-01T00:02:00Z') })
    const a = await readInterruption(imds)
    const b = await readInterruption(imds)
    expect(a).toMatchObject({ kind: 'interruption', action: 'terminate', time: '2026-01-01T00:02:00Z' })
    expect(a!.id).toBe(b!.id)
  })

  it('read rebalance recommendations and scheduled events', async () => {
    const imds = createImds(fake.url, instantClock())
    fake.rebalance(Date.parse('2026-01-01T00:00:00Z'))
    fake.scheduledEvent({ Code: 'system-reboot', NotBefore: '2026-01-03T00:00:00Z', EventId: 'instance-event-1' })
    expect(await readRebalance(imds)).toMatchObject({ kind: 'rebalance', noticeTime: '2026-01-01T00:00:00Z' })
    expect(await readScheduledEvents(imds)).toEqual([expect.objectContaining({ kind: 'scheduled', code: 'system-reboot', eventId: 'instance-event-1' })])
  })
})

describe('createWatcher', () => {
  it('hands each notice over once however often it is read, polling every 2 s', async () => {
    const clock = manualClock()
    const imds = createImds(fake.url, clock)
    const seen: Notice[] = []
    const watcher = createWatcher([{ name: 'interruption', intervalMs: 2000, read: () => readInterruption(imds) }], (n) => seen.push(n), clock, memoryLog())
    const stop = new AbortController()
    const running = watcher.run(stop.signal)
    const reads = () => fake.requests.filter((r) => r.path.endsWith('spot/instance-action')).length
    // A read is over when the loop sleeps again.
    const waitReads = async (n: number) => {
      for (let i = 0; i < 500 && (reads() < n || clock.sleeping === 0); i++) await new Promise((r) => setImmediate(r))
    }
    await waitReads(1)
    fake.interrupt({ action: 'terminate', time: Date.parse('2026-01-01T00:02:00Z') })
    for (let i = 2; i <= 5; i++) {
      await clock.advance(2000)
      await waitReads(i)
    }
    expect(reads()).toBe(5)
    expect(seen).toHaveLength(1)
    stop.abort()
    await running
  })

  it('hands each scheduled event over once by its event id, even when AWS moves its time', async () => {
    const imds = createImds(fake.url, instantClock())
    const seen: Notice[] = []
    const watcher = createWatcher([], (n) => seen.push(n), instantClock(), memoryLog())
    const monitor = { name: 'scheduled-events', intervalMs: 60_000, read: () => readScheduledEvents(imds) }
    fake.scheduledEvent({ Code: 'system-reboot', NotBefore: '2026-01-03T00:00:00Z', EventId: 'instance-event-1' })
    await watcher.pollOnce(monitor)
    await watcher.pollOnce(monitor)
    fake.clear()
    fake.scheduledEvent({ Code: 'system-reboot', NotBefore: '2026-01-04T00:00:00Z', EventId: 'instance-event-1' })
    fake.scheduledEvent({ Code: 'instance-retirement', NotBefore: '2026-01-05T00:00:00Z', EventId: 'instance-event-2' })
    await watcher.pollOnce(monitor)
    await watcher.pollOnce(monitor)
    expect(seen.map((n) => (n.kind === 'scheduled' ? n.eventId : n.kind))).toEqual(['instance-event-1', 'instance-event-2'])
  })

  it('logs one line per outage, not one per failed read', async () => {
    const clock = instantClock()
    const log = memoryLog()
    const watcher = createWatcher([{ name: 'broken', intervalMs: 1000, read: async () => Promise.reject(new Error('down')) }], () => {}, clock, log)
    const monitor = { name: 'broken', intervalMs: 1000, read: async () => Promise.reject(new Error('down')) }
    for (let i = 0; i < 5; i++) await watcher.pollOnce(monitor)
    expect(log.lines.filter((l) => l.msg === 'monitor read failed')).toHaveLength(1)
  })
})
