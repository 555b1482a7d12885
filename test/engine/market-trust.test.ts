/** Whose market data a client trusts (issue 12 finding 1): the pure rules behind every price and risk read. */
import { describe, expect, it } from 'vitest'
import { consensusOf, resolvePrice, resolveSeries } from '../../src/prices/resolve'
import { lastAgreed, weighLifetimes, weighSignals, type PoolSignal } from '../../src/engine/weigh-signals'

const quote = (clientId: string | null, price: number, shared = true) => ({ clientId, price, shared })

describe('resolvePrice', () => {
  it("gives a client its own quote while fewer than 3 clients agree, never another tenant's", () => {
    const quotes = [quote('b', 0.013), quote('a', 0.0001)]
    expect(resolvePrice(quotes, 'b')).toEqual({ price: 0.013, source: 'own' })
    expect(resolvePrice(quotes, 'a')).toEqual({ price: 0.0001, source: 'own' })
    expect(resolvePrice(quotes, 'c')).toBeNull()
  })

  it('gives everyone the median of 3 agreeing shared quotes, and drops an outlier beyond a factor 2', () => {
    const three = [quote('a', 0.009), quote('b', 0.011), quote('c', 0.013)]
    expect(resolvePrice(three, 'z')).toEqual({ price: 0.011, source: 'consensus' })
    expect(resolvePrice([...three, quote('d', 0.0001)], 'd')).toEqual({ price: 0.011, source: 'consensus' })
    expect(consensusOf([0.0001, 0.0001, 0.0001, 0.01])).toBe(0.0001)
  })

  it('lets unshared quotes drive only their reporter, and the operator data stand in last', () => {
    const quotes = [
      quote('a', 0.001, false),
      quote('b', 0.001, false),
      quote('c', 0.001, false),
      quote(null, 0.02),
    ]
    expect(resolvePrice(quotes, 'z')).toEqual({ price: 0.02, source: 'operator' })
    expect(resolvePrice(quotes, 'a')).toEqual({ price: 0.001, source: 'own' })
  })

  it('resolves step functions at every change point of any reporter', () => {
    const series = [
      { clientId: 'b', points: [{ at: 0, price: 0.013, shared: true }] },
      { clientId: 'a', points: [{ at: 10, price: 0.0001, shared: true }] },
      { clientId: 'c', points: [{ at: 20, price: 0.011, shared: true }] },
      { clientId: 'd', points: [{ at: 30, price: 0.012, shared: true }] },
    ]
    // b alone, then b with a (2 clients: own), then 3 clients (0.0001 an outlier: too few remain), then 4.
    expect(resolveSeries(series, 'b')).toEqual([
      { at: 0, price: 0.013 },
      { at: 30, price: 0.012 },
    ])
  })
})

describe('weighSignals', () => {
  const signals = (
    clientId: string,
    n: number,
    kind: PoolSignal['kind'],
    at = 1_000,
    shared = true,
  ): PoolSignal[] =>
    Array.from({ length: n }, (_, k) => ({ clientId, kind, at: at + k, key: `${clientId}-${k}`, shared }))

  it("counts each other client once, the client's own signals fully", () => {
    const flood = [
      ...signals('a', 50, 'notice'),
      ...signals('a', 80, 'rebalance'),
      ...signals('b', 2, 'notice'),
    ]
    expect(weighSignals(flood, 'b')).toMatchObject({
      interruptions30d: 3,
      rebalances30d: 1,
      lastInterruptionAt: 1_001,
    })
    expect(weighSignals(flood, 'c')).toMatchObject({
      interruptions30d: 2,
      rebalances30d: 1,
      lastInterruptionAt: null,
    })
  })

  it("counts an unverified agent's signals for its own client only, however many clients send them", () => {
    const unshared = ['a', 'c', 'd'].flatMap((c) => [
      ...signals(c, 5, 'notice', 1_000, false),
      ...signals(c, 5, 'rebalance', 1_000, false),
    ])
    expect(weighSignals(unshared, 'b')).toEqual({
      interruptions30d: 0,
      rebalances30d: 0,
      rebalancesFollowed30d: 0,
      lastInterruptionAt: null,
    })
    expect(weighSignals(unshared, 'a')).toMatchObject({ interruptions30d: 5, lastInterruptionAt: 1_004 })
  })

  it('marks a recent event of others only once 3 distinct clients saw one', () => {
    expect(lastAgreed([], [[5_000], [6_000]])).toBeNull()
    expect(lastAgreed([], [[5_000], [6_000], [7_000, 9_000]])).toBe(5_000)
    expect(lastAgreed([4_000], [[5_000], [6_000]])).toBe(4_000)
  })

  it("ignores other clients' lifetimes until 3 of them lived in the pool, each then as one instance", () => {
    const fake = { clientId: 'a', shared: true, interruptedHours: 0.01, censoredHours: 0, interrupted: 40 }
    const own = { clientId: 'b', shared: false, interruptedHours: 0, censoredHours: 100, interrupted: 0 }
    expect(weighLifetimes([fake, own], 'b')).toEqual({
      interruptedHours: 0,
      censoredHours: 100,
      interrupted: 0,
    })
    const others = ['c', 'd'].map((clientId) => ({
      clientId,
      shared: true,
      interruptedHours: 0,
      censoredHours: 2_000,
      interrupted: 0,
    }))
    expect(weighLifetimes([fake, own, ...others], 'b')).toEqual({
      interruptedHours: 0.01,
      censoredHours: expect.closeTo(100 + 720 + 720, 6),
      interrupted: 1,
    })
  })

  it("ignores unverified agents' lifetimes of other clients, however many", () => {
    const unshared = ['a', 'c', 'd'].map((clientId) => ({
      clientId,
      shared: false,
      interruptedHours: 0.01,
      censoredHours: 0,
      interrupted: 40,
    }))
    const own = { clientId: 'b', shared: false, interruptedHours: 0, censoredHours: 100, interrupted: 0 }
    expect(weighLifetimes([...unshared, own], 'b')).toEqual({
      interruptedHours: 0,
      censoredHours: 100,
      interrupted: 0,
    })
    expect(weighLifetimes(unshared, 'a')).toEqual({
      interruptedHours: 0.01,
      censoredHours: 0,
      interrupted: 40,
    })
  })
})
