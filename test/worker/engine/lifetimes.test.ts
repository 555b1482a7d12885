import { describe, expect, it } from 'vitest'
import { agentTokens, events, instances, pools, priceQuotes } from '../../../src/db/schema'
import { loadLifetimes, loadMarket } from '../../../src/db/queries/market'
import { DEFAULT_PARAMS, resolveParams } from '../../../src/engine/params'
import { poolRisk } from '../../../src/engine/risk'
import { db } from '../agent-api/helpers'
import { agentOn, freshType } from './market'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const NOW = Date.UTC(2026, 5, 1, 12)

/** A fleet's instances in pools of a fresh type, with known lives; the agent itself runs on-demand. */
async function fleet() {
  const type = freshType()
  const a = await agentOn(type, 'ondemand')
  const pool = (z: string) => `${type}.us-east-1${z}`
  const owner = { clientId: a.client.id, agentId: a.agentId }
  const life = (
    z: string | null,
    created: number,
    terminated: number | null,
    notice: number | null,
    mode: 'spot' | 'ondemand' = 'spot',
  ) => ({ z, created, terminated, notice, mode })
  const lives = [
    life('a', NOW - 40 * DAY, null, NOW - 10 * DAY), // interrupted: 20 days inside the window
    life('a', NOW - 50 * HOUR, NOW - 20 * HOUR, NOW - 21 * HOUR), // interrupted: ends at its notice, 29 h
    life('a', NOW - 5 * HOUR, null, null), // still running: 5 h censored
    life('a', NOW - 2 * HOUR, NOW - HOUR, null), // switched away: 1 h censored
    life('a', NOW - 3 * HOUR, null, NOW + HOUR), // its notice comes after now: 3 h censored
    life('a', NOW - 45 * DAY, NOW - 31 * DAY, null), // ended before the window
    life('a', NOW - 60 * DAY, null, NOW - 35 * DAY), // a stale record interrupted before the window
    life('a', NOW + HOUR, null, null), // launched after now
    life(null, NOW - 10 * HOUR, null, null, 'ondemand'), // on-demand lives in no pool
    life('b', NOW - 10 * HOUR, null, null), // still running: 10 h censored
  ]
  // One row per statement: D1 binds at most 100 parameters.
  const rows = lives.map((l, i) => ({
    id: `ins-${type}-${i}`,
    ...owner,
    instanceId: `i-${type}-${i}`,
    instanceType: type,
    region: 'us-east-1',
    az: l.z ? `us-east-1${l.z}` : 'us-east-1a',
    mode: l.mode,
    poolId: l.z ? pool(l.z) : null,
    status: l.terminated === null ? ('active' as const) : ('terminated' as const),
    createdAt: l.created,
    updatedAt: l.terminated ?? l.created,
    terminatedAt: l.terminated,
  }))
  const [one, ...others] = rows.map((r) => db().insert(instances).values(r))
  await db().batch([one!, ...others])
  const notices: (typeof events.$inferInsert)[] = lives.flatMap((l, i) =>
    l.notice === null
      ? []
      : [
          // A repeated notice of the same instance counts once (its first).
          ...[0, 30_000].map((later, k) => ({
            id: `evt-${type}-${i}-${k}`,
            ...owner,
            instanceId: `i-${type}-${i}`,
            poolId: pool(l.z ?? 'a'),
            kind: 'termination_notice' as const,
            receivedAt: l.notice! + later,
          })),
        ],
  )
  // A rebalance is not an interruption.
  notices.push({
    id: `evt-${type}-rebalance`,
    ...owner,
    instanceId: `i-${type}-2`,
    poolId: pool('a'),
    kind: 'rebalance',
    receivedAt: NOW - HOUR,
  })
  const [first, ...rest] = notices.map((n) => db().insert(events).values(n))
  await db().batch([first!, ...rest])
  return { type, pool, owner }
}

describe('how long instances lived in each pool (one grouped query on D1)', () => {
  it('splits 30 days of spot lives by how they ended, clipped to the window; shared only for proven instances', async () => {
    const { type, pool, owner } = await fleet()
    // Pool b's instance registered with a signed identity document: its lives may feed other tenants.
    await db()
      .insert(agentTokens)
      .values({
        id: `tok-${type}`,
        ...owner,
        accountId: '123456789012',
        region: 'us-east-1',
        instanceId: `i-${type}-9`,
        tokenHash: `hash-${type}`,
        createdAt: NOW,
      })
    const rows = await loadLifetimes(db(), [pool('a'), pool('b'), pool('c')], NOW - 30 * DAY, NOW)
    const { clientId } = owner
    expect(rows.sort((x, y) => x.poolId.localeCompare(y.poolId))).toEqual([
      {
        poolId: pool('a'),
        clientId,
        shared: false,
        interruptedHours: 20 * 24 + 29,
        censoredHours: 5 + 1 + 3,
        interrupted: 2,
      },
      { poolId: pool('b'), clientId, shared: true, interruptedHours: 0, censoredHours: 10, interrupted: 0 },
    ])
  })

  it('puts the figures on the pool quotes, and a pool without lives stays neutral in risk', async () => {
    const { type, pool, owner } = await fleet()
    await db()
      .insert(pools)
      .values(
        ['a', 'b', 'c'].map((z) => ({
          id: pool(z),
          instanceType: type,
          region: 'us-east-1',
          az: `us-east-1${z}`,
          createdAt: NOW - 40 * DAY,
        })),
      )
    await db()
      .insert(priceQuotes)
      .values(
        ['a', 'b', 'c'].map((z) => ({
          series: pool(z),
          clientId: owner.clientId,
          price: 0.0125,
          changedAt: NOW - DAY,
          reportedAt: NOW - 60_000,
          shared: false,
        })),
      )
    const market = await loadMarket(db(), owner.clientId, type, 'us-east-1', NOW)
    const quote = (z: string) => market.pools.find((p) => p.poolId === pool(z))!
    expect(quote('a')).toMatchObject({
      livedHoursInterrupted30d: 509,
      livedHoursCensored30d: 9,
      livesInterrupted30d: 2,
    })
    expect(quote('b')).toMatchObject({
      livedHoursInterrupted30d: 0,
      livedHoursCensored30d: 10,
      livesInterrupted30d: 0,
    })
    expect(quote('c')).toMatchObject({
      livedHoursInterrupted30d: 0,
      livedHoursCensored30d: 0,
      livesInterrupted30d: 0,
    })
    const od = 0.0416
    const noLifetime = resolveParams({ weights: { lifetime: 0 } })
    expect(poolRisk(quote('c'), od, DEFAULT_PARAMS)).toBe(poolRisk(quote('c'), od, noLifetime))
    expect(poolRisk(quote('b'), od, DEFAULT_PARAMS)).toBeLessThan(poolRisk(quote('b'), od, noLifetime))
  })

  it('stays within D1 bound parameters for the largest market the engine reads (90 pools)', async () => {
    const { pool } = await fleet()
    const ids = [pool('a'), ...Array.from({ length: 89 }, (_, i) => `t9.none.us-east-9${i}`)]
    const rows = await loadLifetimes(db(), ids, NOW - 30 * DAY, NOW)
    expect(rows.map((r) => r.poolId)).toEqual([pool('a')])
  })
})
