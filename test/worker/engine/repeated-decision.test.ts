/**
 * A decision the engine repeats (same kind, target and blocks) is stored once and bumped
 * (flows/engine-tick/decisions.ts); what it saw must still be its latest run's, because the instance
 * page's options and the decision list read the risk, the skipped pools and the reasons from that row.
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { CRON_ENGINE } from '../../../src/cron'
import { placementScores } from '../../../src/db/schema'
import { runScheduled } from '../../../src/scheduled'
import { db } from '../agent-api/helpers'
import { agentOn, decisionsOf, freshType, reportPrices, setAgent } from './market'

interface SeenPool {
  pool_id: string
  skipped: string | null
  placement_score?: number
}

describe('a repeated decision', () => {
  it('keeps one row and carries what its latest run saw: a pool that lost its capacity since', async () => {
    const type = freshType()
    const a = await agentOn(type, 'ondemand')
    await reportPrices(a, type, { a: 0.02, b: 0.0125, c: 0.013 })
    // Suggestions only: the same decision each run, nothing in flight.
    await setAgent(a.agentId, { minPoolDurationHours: 0, autoSwitchEnabled: false })
    // Two runs: the second is what the agent's runs settle on (its first moments may block differently).
    const start = Date.now()
    await runScheduled(CRON_ENGINE, env, start)
    await runScheduled(CRON_ENGINE, env, start + 60_000)
    const before = await decisionsOf(a.agentId)
    const first = before.sort((x, y) => y.lastSeenAt - x.lastSeenAt)[0]
    expect(first).toMatchObject({ targetPoolId: `${type}.us-east-1b` })

    // The next run: us-east-1c has no capacity (a placement score of 1), the pick is the same.
    const now = start + 120_000
    await db()
      .insert(placementScores)
      .values({
        clientId: a.client.id,
        poolId: `${type}.us-east-1c`,
        score: 1,
        scoredAt: now,
        agentId: a.agentId,
      })
    await runScheduled(CRON_ENGINE, env, now)
    const rows = await decisionsOf(a.agentId)
    expect(rows).toHaveLength(before.length)
    const latest = rows.find((r) => r.id === first!.id)
    expect(latest).toMatchObject({
      decision: first!.decision,
      targetPoolId: `${type}.us-east-1b`,
      repeatCount: first!.repeatCount + 1,
    })
    const seen = (latest!.inputs as { pools: SeenPool[] }).pools.find(
      (p) => p.pool_id === `${type}.us-east-1c`,
    )
    expect(seen).toMatchObject({ placement_score: 1, skipped: 'above_risk_threshold' })
    expect(latest!.reasons).toEqual(
      expect.arrayContaining([expect.stringContaining(`pool ${type}.us-east-1c: placement score 1/10`)]),
    )
  })
})
