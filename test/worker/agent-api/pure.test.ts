/** The pure rules behind the agent API: price step function, switch durations, timestamps, replica moves. */
import { describe, expect, it } from 'vitest'
import { parseIsoTime, toMode } from '../../../src/routes/agents/wire'
import { downtimeMs, durationMs } from '../../../src/flows/switch/times'
import { planPriceWrite } from '../../../src/prices/step'
import { parsePoolId, regionOfAz } from '../../../src/prices/pool-id'
import { replicaMove } from '../../../src/flows/replicas/states'

const MIN = 60_000

describe('price history as a step function', () => {
  it('writes the first price, then only changes at most every 5 minutes, whoever reports', () => {
    expect(planPriceWrite(null, 0.1, 0)).toEqual({ writeRow: true, touch: true })
    const last = { price: 0.1, changedAt: 0, reportedAt: 0 }
    expect(planPriceWrite(last, 0.1, 1 * MIN)).toEqual({ writeRow: false, touch: false })
    expect(planPriceWrite(last, 0.2, 4 * MIN)).toEqual({ writeRow: false, touch: false })
    expect(planPriceWrite(last, 0.2, 5 * MIN)).toEqual({ writeRow: true, touch: true })
  })

  it('refreshes the freshness stamp of an unchanged price at most every 15 minutes', () => {
    const last = { price: 0.1, changedAt: 0, reportedAt: 10 * MIN }
    expect(planPriceWrite(last, 0.1, 20 * MIN).touch).toBe(false)
    expect(planPriceWrite(last, 0.1, 25 * MIN)).toEqual({ writeRow: false, touch: true })
  })
})

describe('switch durations (agent clock)', () => {
  const t = { initiatedAt: 0, readyAt: 40_000, trafficSwitchedAt: 42_000, oldTerminatedAt: null }
  it('counts the Elastic IP move as downtime and the switch from start to serving', () => {
    expect(downtimeMs(t)).toBe(2_000)
    expect(durationMs(t)).toBe(42_000)
  })
  it('without a traffic switch: from the old instance terminating to the new one ready', () => {
    expect(downtimeMs({ ...t, trafficSwitchedAt: null, oldTerminatedAt: 30_000 })).toBe(10_000)
    expect(downtimeMs({ ...t, trafficSwitchedAt: null, oldTerminatedAt: 50_000 })).toBe(0)
    expect(downtimeMs({ ...t, readyAt: null, trafficSwitchedAt: null })).toBeNull()
    // An emergency replacement: the old instance ends at the notice's time, the address moves after.
    expect(downtimeMs({ ...t, readyAt: null, trafficSwitchedAt: 70_000, oldTerminatedAt: 60_000 })).toBe(
      10_000,
    )
    expect(downtimeMs({ ...t, readyAt: null, trafficSwitchedAt: 50_000, oldTerminatedAt: 60_000 })).toBe(0)
  })
})

describe('wire readers', () => {
  it('reads ISO times with Z, +00:00, microseconds, other offsets and no zone (UTC)', () => {
    const base = Date.UTC(2025, 10, 23, 10, 30, 0)
    expect(parseIsoTime('2025-11-23T10:30:00Z')).toBe(base)
    expect(parseIsoTime('2025-11-23T10:30:00.000001+00:00')).toBe(base)
    expect(parseIsoTime('2025-11-23T10:30:00.123456Z')).toBe(base + 123)
    expect(parseIsoTime('2025-11-23T12:30:00+02:00')).toBe(base)
    expect(parseIsoTime('2025-11-23T10:30:00')).toBe(base)
    expect(parseIsoTime('yesterday')).toBeNull()
  })
  it('maps modes as IMDS and the agents spell them', () => {
    expect([
      toMode('spot'),
      toMode('on-demand'),
      toMode('ondemand'),
      toMode('unknown'),
      toMode(null),
    ]).toEqual(['spot', 'ondemand', 'ondemand', 'unknown', 'unknown'])
  })
  it('splits pool ids at the last dot', () => {
    expect(parsePoolId('t3.medium.us-east-1b')).toEqual({
      poolId: 't3.medium.us-east-1b',
      instanceType: 't3.medium',
      az: 'us-east-1b',
    })
    expect(parsePoolId('nodot')).toBeNull()
    expect(regionOfAz('us-east-1b')).toBe('us-east-1')
  })
})

describe('replica moves', () => {
  it('allows the forward path, re-sync and ending; the same state is a no-op; ended states are final', () => {
    expect(replicaMove('launching', 'syncing')).toEqual({ kind: 'move' })
    expect(replicaMove('ready', 'syncing')).toEqual({ kind: 'move' })
    expect(replicaMove('ready', 'ready')).toEqual({ kind: 'same' })
    expect(replicaMove('syncing', 'terminated')).toEqual({ kind: 'move' })
    expect(replicaMove('launching', 'promoted').kind).toBe('refused')
    expect(replicaMove('terminated', 'ready').kind).toBe('refused')
    expect(replicaMove('promoted', 'terminated').kind).toBe('refused')
  })

  it('a replica being terminated only ends: no late launch report revives it', () => {
    expect(replicaMove('ready', 'terminating')).toEqual({ kind: 'move' })
    expect(replicaMove('terminating', 'terminated')).toEqual({ kind: 'move' })
    expect(replicaMove('terminating', 'ready').kind).toBe('refused')
    expect(replicaMove('promoted', 'terminating').kind).toBe('refused')
    expect(replicaMove('terminated', 'terminating').kind).toBe('refused')
  })
})
