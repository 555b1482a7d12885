import { describe, expect, it } from 'vitest'
import { ack, cancelAll, completeSwitches, markRunning, report } from '../../src/session/moves'
import {
  byPriority,
  createCommand,
  expireStale,
  findDuplicate,
  LEASE_MS,
  LEGACY_CLAIM,
  nextQueueDue,
  NOTICE_GRACE_MS,
  pollAsInstance,
  pollAsLegacy,
  releaseLapsedLeases,
  settle,
} from '../../src/session/queue'
import type { NewCommand, QueuedCommand } from '../../src/session/types'

const T0 = Date.UTC(2026, 0, 1)
const MIN = 60_000

function switchTo(overrides: Partial<NewCommand> = {}): NewCommand {
  return {
    clientId: 'c1',
    agentId: 'a1',
    agentVersion: '4.0.0',
    instanceId: 'i-old',
    commandType: 'switch',
    targetMode: 'ondemand',
    targetPoolId: null,
    priority: 75,
    terminateWaitSeconds: 300,
    source: 'manual',
    ...overrides,
  }
}

function queued(id: string, at: number, overrides: Partial<NewCommand> = {}): QueuedCommand {
  const created = createCommand(switchTo(overrides), id, at)
  if (!created.ok) throw new Error(created.message)
  return created.command
}

describe('createCommand', () => {
  it('builds the wire fields the installed agent reads', () => {
    const c = queued('cmd_1', T0)
    expect(c.wire).toEqual({
      id: 'cmd_1',
      command_type: 'switch',
      instance_id: 'i-old',
      target_mode: 'ondemand',
      target_pool_id: null,
      priority: 75,
      terminate_wait_seconds: 300,
      created_at: '2026-01-01T00:00:00.000Z',
      expires_at: '2026-01-01T00:30:00.000Z',
    })
    expect(c.status).toBe('queued')
  })

  it('refuses a type the agent version does not know', () => {
    const created = createCommand(
      switchTo({
        agentVersion: '3.2.0',
        commandType: 'create_replica',
        targetMode: 'spot',
        payload: { replica_id: 'r1' },
        targetPoolId: 'p',
      }),
      'x',
      T0,
    )
    expect(created).toMatchObject({ ok: false })
  })

  it('refuses a switch without a target mode', () => {
    expect(createCommand(switchTo({ targetMode: undefined }), 'x', T0)).toMatchObject({ ok: false })
  })

  it('takes a per-command expiry', () => {
    expect(queued('c', T0, { expiresInSeconds: 60 }).expiresAt).toBe(T0 + MIN)
  })
})

describe('order', () => {
  it('hands out the highest priority first, then the oldest', () => {
    const low = queued('low', T0, { priority: 10 })
    const highNew = queued('high-new', T0 + 2000, { priority: 100 })
    const highOld = queued('high-old', T0 + 1000, { priority: 100 })
    const manual = queued('manual', T0, { priority: 75 })
    const { handed } = pollAsInstance([low, highNew, highOld, manual], 'i-old', '5.0.0', T0 + 3000)
    expect(handed.map((c) => c.id)).toEqual(['high-old', 'high-new', 'manual', 'low'])
    expect([low, manual, highNew, highOld].sort(byPriority)[0]?.id).toBe('high-old')
  })
})

describe('expiry', () => {
  it('expires an unclaimed switch after 30 minutes and never hands it out', () => {
    const c = queued('c', T0)
    expect(expireStale([c], T0 + 30 * MIN - 1)).toEqual([])
    const [expired] = expireStale([c], T0 + 30 * MIN)
    expect(expired).toMatchObject({ status: 'expired', finishedAt: T0 + 30 * MIN })
    expect(pollAsLegacy([c], '4.0.0', 'i-old', T0 + 30 * MIN)).toBeNull()
    expect(ack(c, 'i-old', T0 + 30 * MIN)).toMatchObject({ kind: 'refused' })
  })

  it('does not expire a claimed command; its lease fails it when no result comes', () => {
    const claimed = pollAsLegacy([queued('c', T0)], '4.0.0', 'i-old', T0 + MIN)!
    expect(expireStale([claimed], T0 + 45 * MIN)).toEqual([])
    expect(releaseLapsedLeases([claimed], T0 + MIN + LEASE_MS.switch - 1)).toEqual([])
    expect(releaseLapsedLeases([claimed], T0 + MIN + LEASE_MS.switch)).toMatchObject([{ status: 'failed' }])
  })

  it('renews the lease on each step the claimer reports: a switch waiting 60 min for its AMI runs on', () => {
    const acked = ack(queued('c', T0), 'i-old', T0)
    if (acked.kind !== 'changed') throw new Error('not acked')
    const started = markRunning(acked.command, 'i-old', null, T0 + 1)
    if (started.kind !== 'changed') throw new Error('not running')
    const image = markRunning(started.command, 'i-old', 'imageId=ami-1', T0 + 2 * MIN)
    expect(image).toMatchObject({
      kind: 'changed',
      command: { status: 'running', startedAt: T0 + 1, message: 'imageId=ami-1' },
    })
    if (image.kind !== 'changed') return
    // The AMI takes 60 minutes; then the launch is reported.
    const afterImage = T0 + 62 * MIN
    expect(releaseLapsedLeases([image.command], afterImage)).toEqual([])
    const launched = markRunning(image.command, 'i-old', 'newInstanceId=i-new', afterImage)
    if (launched.kind !== 'changed') throw new Error('not renewed')
    expect(launched.command.leaseUntil).toBe(afterImage + LEASE_MS.switch)
    expect(releaseLapsedLeases([launched.command], T0 + 2 * 60 * MIN)).toEqual([])
    // Without news for a whole lease it fails, as before.
    expect(releaseLapsedLeases([launched.command], afterImage + LEASE_MS.switch)).toMatchObject([
      { status: 'failed' },
    ])
    expect(markRunning(launched.command, 'i-other', 'x', afterImage)).toMatchObject({ kind: 'refused' })
  })

  it("lapses an interrupted host's promotion soon after its notice's time: its result may die with it", () => {
    const notAfter = T0 + 2 * MIN
    const promotion = queued('p', T0, {
      agentVersion: '5.0.0',
      instanceId: null,
      commandType: 'promote_replica',
      targetMode: undefined,
      priority: 100,
      source: 'emergency',
      payload: {
        replica_id: 'r1',
        replica_instance_id: 'i-new',
        not_after: new Date(notAfter).toISOString(),
      },
    })
    const byOldHost = ack(promotion, 'i-old', T0 + 10_000)
    if (byOldHost.kind !== 'changed') throw new Error('not acked')
    const running = markRunning(byOldHost.command, 'i-old', null, T0 + 20_000)
    if (running.kind !== 'changed') throw new Error('not running')
    expect(running.command.leaseUntil).toBe(notAfter + NOTICE_GRACE_MS)
    expect(nextQueueDue([running.command])).toBe(notAfter + NOTICE_GRACE_MS)
    expect(releaseLapsedLeases([running.command], notAfter + NOTICE_GRACE_MS)).toMatchObject([
      { status: 'failed', message: 'no result before the lease ended' },
    ])
    // The promoted instance's own agent is not ending: its claim keeps the whole lease.
    const byReplica = ack(promotion, 'i-new', T0 + 10_000)
    expect(byReplica).toMatchObject({ command: { leaseUntil: T0 + 10_000 + LEASE_MS.promote_replica } })
  })

  it('is due at the earliest expiry or lease', () => {
    const a = queued('a', T0)
    const b = queued('b', T0 + MIN, { expiresInSeconds: 60 })
    expect(nextQueueDue([a, b])).toBe(T0 + 2 * MIN)
    expect(nextQueueDue([])).toBeNull()
  })
})

describe('legacy pollers', () => {
  it('hand out one command once: two processes polling the agent get one execution', () => {
    const queue = [queued('a', T0), queued('b', T0 + 1, { priority: 10 })]
    const first = pollAsLegacy(queue, '4.0.0', 'i-old', T0 + 10)
    expect(first).toMatchObject({ id: 'a', status: 'delivered', claimedBy: LEGACY_CLAIM, claimedOn: 'i-old' })
    const after = queue.map((c) => (c.id === first!.id ? first! : c))
    const second = pollAsLegacy(after, '4.0.0', 'i-old', T0 + 20)
    expect(second?.id).toBe('b')
    const drained = after.map((c) => (c.id === second!.id ? second! : c))
    expect(pollAsLegacy(drained, '4.0.0', 'i-old', T0 + 30)).toBeNull()
  })

  it('never lease a command of another instance than the one the agent record is bound to', () => {
    const queue = [queued('a', T0)]
    expect(pollAsLegacy(queue, '4.0.0', 'i-new', T0 + 10)).toBeNull()
    expect(pollAsLegacy(queue, '4.0.0', 'i-old', T0 + 10)?.id).toBe('a')
  })

  it('only get the types their version knows', () => {
    const replica = queued('r', T0, {
      agentVersion: '5.0.0',
      commandType: 'create_replica',
      targetMode: 'spot',
      payload: { replica_id: 'r1' },
      targetPoolId: 't3.medium.us-east-1b',
    })
    expect(pollAsLegacy([replica], '3.2.0', 'i-old', T0)).toBeNull()
    expect(pollAsLegacy([replica], '4.0.0', 'i-old', T0)?.id).toBe('r')
  })

  it('complete a switch when the agent registers from its new instance', () => {
    const claimed = pollAsLegacy([queued('c', T0)], '4.0.0', 'i-old', T0)!
    expect(completeSwitches([claimed], 'i-old', T0 + MIN)).toEqual([])
    expect(completeSwitches([claimed], 'i-new', T0 + MIN)).toMatchObject([{ id: 'c', status: 'completed' }])
  })
})

describe('the new agent', () => {
  it('only sees the commands of its instance, again until it acks', () => {
    const mine = queued('mine', T0, { agentVersion: '5.0.0' })
    const other = queued('other', T0, { agentVersion: '5.0.0', instanceId: 'i-other' })
    const first = pollAsInstance([mine, other], 'i-old', '5.0.0', T0 + 1)
    expect(first.handed.map((c) => c.id)).toEqual(['mine'])
    expect(first.changed).toMatchObject([{ id: 'mine', status: 'delivered' }])
    const again = pollAsInstance(first.handed, 'i-old', '5.0.0', T0 + 2)
    expect(again.handed.map((c) => c.id)).toEqual(['mine'])
    expect(again.changed).toEqual([])
  })

  it('claims with ack: the first claim wins, a repeat is a no-op, a second instance is refused', () => {
    const c = queued('c', T0, { agentVersion: '5.0.0', instanceId: null })
    const won = ack(c, 'i-a', T0 + 1)
    expect(won).toMatchObject({ kind: 'changed', command: { status: 'acked', claimedBy: 'i-a' } })
    if (won.kind !== 'changed') return
    expect(ack(won.command, 'i-a', T0 + 2)).toMatchObject({ kind: 'unchanged' })
    expect(ack(won.command, 'i-b', T0 + 2)).toMatchObject({ kind: 'refused' })
    expect(pollAsInstance([won.command], 'i-b', '5.0.0', T0 + 3).handed).toEqual([])
  })

  it('hands a claimed, unstarted command to its claimant again, in case the claim answer was lost', () => {
    const won = ack(queued('c', T0, { agentVersion: '5.0.0', instanceId: null }), 'i-a', T0 + 1)
    if (won.kind !== 'changed') throw new Error('not acked')
    expect(pollAsInstance([won.command], 'i-a', '5.0.0', T0 + 2).handed.map((c) => c.id)).toEqual(['c'])
    const running = markRunning(won.command, 'i-a', null, T0 + 3)
    if (running.kind !== 'changed') throw new Error('not running')
    expect(pollAsInstance([running.command], 'i-a', '5.0.0', T0 + 4).handed).toEqual([])
  })

  it('cannot claim a command for another instance', () => {
    expect(ack(queued('c', T0), 'i-new', T0)).toMatchObject({ kind: 'refused' })
  })

  it('moves acked → running → completed', () => {
    const acked = ack(queued('c', T0), 'i-old', T0)
    if (acked.kind !== 'changed') throw new Error('not acked')
    expect(markRunning(acked.command, 'i-other', null, T0)).toMatchObject({ kind: 'refused' })
    const running = markRunning(acked.command, 'i-old', null, T0 + 1)
    expect(running).toMatchObject({ kind: 'changed', command: { status: 'running', startedAt: T0 + 1 } })
    if (running.kind !== 'changed') return
    expect(report(running.command, false, 'boom', 'i-other', T0 + 2)).toMatchObject({ kind: 'refused' })
    expect(report(running.command, true, 'ok', 'i-old', T0 + 2)).toMatchObject({
      kind: 'changed',
      command: { status: 'completed' },
    })
  })
})

describe('executed', () => {
  it('maps success to completed and failure to failed, idempotently', () => {
    const c = pollAsLegacy([queued('c', T0)], '4.0.0', 'i-old', T0)!
    const done = report(c, true, 'Switch completed', null, T0 + 1)
    expect(done).toMatchObject({
      kind: 'changed',
      command: { status: 'completed', message: 'Switch completed' },
    })
    if (done.kind !== 'changed') return
    expect(report(done.command, false, 'again', null, T0 + 2)).toEqual({
      kind: 'unchanged',
      command: done.command,
    })
    expect(report(c, false, 'nope', null, T0 + 1)).toMatchObject({ command: { status: 'failed' } })
  })

  it('refuses a result for an expired command (it never ran)', () => {
    const [expired] = expireStale([queued('c', T0)], T0 + 31 * MIN)
    expect(report(expired!, true, null, null, T0 + 32 * MIN)).toMatchObject({ kind: 'refused' })
  })
})

describe('settle', () => {
  it('splits off what expired and what lapsed, keeping the rest open', () => {
    const stale = queued('stale', T0)
    const fresh = queued('fresh', T0 + 50 * MIN)
    const leased = pollAsLegacy([queued('leased', T0)], '4.0.0', 'i-old', T0)!
    const { open, finished } = settle([stale, fresh, leased], T0 + LEASE_MS.switch)
    expect(open.map((c) => c.id)).toEqual(['fresh'])
    expect(finished.map((c) => [c.id, c.status])).toEqual([
      ['stale', 'expired'],
      ['leased', 'failed'],
    ])
  })
})

describe('a deleted agent', () => {
  it('has its open commands cancelled except the kept types', () => {
    const uninstall = queued('u', T0, { agentVersion: '5.0.0', commandType: 'uninstall' })
    const cancelled = cancelAll([queued('s', T0), uninstall], T0 + 1, ['uninstall'])
    expect(cancelled.map((c) => [c.id, c.status])).toEqual([['s', 'cancelled']])
  })
})

describe('dedupe', () => {
  it('finds an open command with the same key, not a finished one', () => {
    const c = queued('c', T0, { dedupeKey: 'switch:i-old' })
    expect(findDuplicate([c], 'switch:i-old')?.id).toBe('c')
    expect(findDuplicate([c], undefined)).toBeNull()
    const [expired] = expireStale([c], T0 + 31 * MIN)
    expect(findDuplicate([expired!], 'switch:i-old')).toBeNull()
  })
})
