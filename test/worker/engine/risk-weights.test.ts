/**
 * Risk weights per client (engine/risk-weights.ts): set through the client API or the settings page,
 * validated, audited, and read by that client's engine runs, where a changed weight changes what the
 * engine decides.
 */
import { env } from 'cloudflare:test'
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { auditLog, clientRiskWeights, events } from '../../../src/db/schema'
import { CRON_ENGINE } from '../../../src/cron'
import { DEFAULT_PARAMS } from '../../../src/engine/params'
import { runScheduled } from '../../../src/scheduled'
import { eventually } from '../../support/eventually'
import { call, db } from '../agent-api/helpers'
import { get, seedClient, seedUser, send } from '../web/seed'
import { agentOn, decisionsOf, freshType, reportPrices, setAgent } from './market'

const DAY = 24 * 3_600_000

/**
 * An on-demand agent (auto-switch off: decisions stay suggestions) whose cheapest pool, b, interrupted
 * the client's instances 10 times two days ago; c costs a little more and never did.
 */
async function agentBesideAnInterruptedPool() {
  const type = freshType()
  const a = await agentOn(type, 'ondemand', '5.0.0')
  await reportPrices(a, type, { a: 0.02, b: 0.0125, c: 0.013 })
  // The report's own engine run (in its background) has stored its decision: none lands later.
  await eventually(async () => (await decisionsOf(a.agentId)).length > 0, {
    what: "the pricing report's decision",
    timeoutMs: 5_000,
    intervalMs: 20,
  })
  await setAgent(a.agentId, { minPoolDurationHours: 0, autoSwitchEnabled: false })
  const at = Date.now() - 2 * DAY
  await db()
    .insert(events)
    .values(
      Array.from({ length: 10 }, (_, k) => ({
        id: `evt_${crypto.randomUUID().replaceAll('-', '')}`,
        clientId: a.client.id,
        agentId: a.agentId,
        instanceId: `i-gone${k}`,
        poolId: `${type}.us-east-1b`,
        kind: 'termination_notice' as const,
        receivedAt: at + k * 60_000,
      })),
    )
  return { a, type }
}

async function latestDecision(agentId: string) {
  const rows = await decisionsOf(agentId)
  return rows
    .filter((d) => !d.shadow)
    .sort((x, y) => y.lastSeenAt - x.lastSeenAt || y.createdAt - x.createdAt)[0]
}

const weightsPath = (clientId: string) => `/api/client/${clientId}/risk-weights`

describe("a client's risk weights", () => {
  it("change the engine's decision for that client's agents: the interrupted pool is chosen once interruptions weigh nothing", async () => {
    const { a, type } = await agentBesideAnInterruptedPool()
    await runScheduled(CRON_ENGINE, env, Date.now())
    expect(await latestDecision(a.agentId)).toMatchObject({
      decision: 'to_spot',
      targetPoolId: `${type}.us-east-1c`,
    })

    const owner = await seedUser(a.client.id, 'owner')
    const put = await send('PUT', weightsPath(a.client.id), owner.headers, { interruptions: 0 })
    expect(put.status).toBe(200)
    expect(await put.json()).toMatchObject({
      overrides: { interruptions: 0 },
      effective: { ...DEFAULT_PARAMS.weights, interruptions: 0 },
    })

    await runScheduled(CRON_ENGINE, env, Date.now())
    expect(await latestDecision(a.agentId)).toMatchObject({
      decision: 'to_spot',
      targetPoolId: `${type}.us-east-1b`,
    })
    // The per-agent run (a pricing report's, the decide route's) reads them too.
    const decided = await call('POST', `/api/agents/${a.agentId}/decide`, {}, a.client.auth)
    expect(decided.json).toMatchObject({ target_pool_id: `${type}.us-east-1b` })

    // Back to the default: null inherits again, and the engine avoids the interrupted pool again.
    const reset = await send('PUT', weightsPath(a.client.id), owner.headers, { interruptions: null })
    expect(await reset.json()).toMatchObject({ overrides: {}, effective: DEFAULT_PARAMS.weights })
    expect(
      await db().select().from(clientRiskWeights).where(eq(clientRiskWeights.clientId, a.client.id)),
    ).toEqual([])
    await runScheduled(CRON_ENGINE, env, Date.now())
    expect(await latestDecision(a.agentId)).toMatchObject({ targetPoolId: `${type}.us-east-1c` })
  })

  it('are shown and set on the settings page, and each change is audited', async () => {
    const client = await seedClient()
    const owner = await seedUser(client.id, 'owner')
    expect((await send('PUT', weightsPath(client.id), owner.headers, { ratio: 0.8, trend: 0 })).status).toBe(
      200,
    )
    const view = await (await get(weightsPath(client.id), owner.headers)).json()
    expect(view).toMatchObject({
      params_version: 0,
      defaults: DEFAULT_PARAMS.weights,
      overrides: { ratio: 0.8, trend: 0 },
      effective: { ...DEFAULT_PARAMS.weights, ratio: 0.8, trend: 0 },
    })
    const html = await (await get(`/c/${client.id}/settings`, owner.headers)).text()
    expect(html).toContain('Engine risk weights')
    expect(html).toMatch(/name="ratio"[^>]*value="0.8"/)
    expect(html).toContain(`data-api="/api/client/${client.id}/risk-weights"`)
    const [entry, ...more] = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.clientId, client.id), eq(auditLog.action, 'client.risk_weights')))
    expect(more).toEqual([])
    expect(entry).toMatchObject({ actorId: owner.userId, before: {}, after: { ratio: 0.8, trend: 0 } })
  })

  it('refuse bad input with a 400 and write nothing; viewers and other tenants cannot change them', async () => {
    const client = await seedClient()
    const owner = await seedUser(client.id, 'owner')
    await send('PUT', weightsPath(client.id), owner.headers, { ratio: 0.6 })
    const bad = [
      { ratio: 1.5 },
      { ratio: -0.1 },
      { ratio: '0.5' },
      { nonsense: 1 },
      // Every component but lifetime and capacity at zero: most pools would look riskless.
      { interruptions: 0, rebalances: 0, followThrough: 0, volatility: 0, trend: 0, ratio: 0, lifetime: 1 },
      { interruptions: 0, rebalances: 0, followThrough: 0, volatility: 0, trend: 0, ratio: 0, capacity: 1 },
    ]
    for (const body of bad) {
      const res = await send('PUT', weightsPath(client.id), owner.headers, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(await res.json()).toMatchObject({ code: 'VALIDATION' })
    }
    const viewer = await seedUser(client.id, 'viewer')
    expect((await send('PUT', weightsPath(client.id), viewer.headers, { ratio: 0.1 })).status).toBe(403)
    const stranger = await seedUser((await seedClient()).id, 'owner')
    expect((await send('PUT', weightsPath(client.id), stranger.headers, { ratio: 0.1 })).status).toBe(404)
    expect((await get(weightsPath(client.id), stranger.headers)).status).toBe(404)

    const [row] = await db().select().from(clientRiskWeights).where(eq(clientRiskWeights.clientId, client.id))
    expect(row!.weights).toEqual({ ratio: 0.6 })
    const audited = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.clientId, client.id), eq(auditLog.action, 'client.risk_weights')))
    expect(audited).toHaveLength(1)
  })
})
