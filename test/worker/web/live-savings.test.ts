import { env } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { ondemandPrices, spotPrices, usageSegments } from '../../../src/db/schema'
import { syncSegments } from '../../../src/flows/ledger/segments'
import { monthBounds } from '../../../src/ledger/summary'
import { CRON_HOURLY } from '../../../src/cron'
import { runScheduled } from '../../../src/scheduled'
import { ADMIN, call, db, newClient } from '../agent-api/helpers'
import { agentOn, freshType, loadAgent } from '../engine/market'

const H = 3_600_000
const SPOT = 0.0125
const OD = 0.0416

/** A new client whose one agent registered on spot ~10 minutes ago (its primary segment still open). */
async function youngFleet() {
  const client = await newClient()
  const type = freshType()
  const agent = await agentOn(type, 'spot', '5.0.0', client)
  const now = Date.now()
  await db()
    .insert(spotPrices)
    .values({ poolId: `${type}.us-east-1a`, price: SPOT, observedAt: now - H })
  await db()
    .insert(ondemandPrices)
    .values({ instanceType: type, region: 'us-east-1', price: OD, observedAt: now - H })
  await syncSegments(db(), await loadAgent(agent.agentId), now)
  // Registered 10 minutes ago (within this month and day).
  const startedAt = Math.max(now - 10 * 60_000, Date.UTC(...ymd(now)) + 1)
  await db().update(usageSegments).set({ startedAt }).where(eq(usageSegments.agentId, agent.agentId))
  return { client, agent, startedAt }
}

const ymd = (ms: number) => {
  const d = new Date(ms)
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()] as const
}

/** What the open segment has saved between `startedAt` and `at`, USD. */
const savedBy = (startedAt: number, at: number) => ((OD - SPOT) * (at - startedAt)) / H

/** A money amount shown on a page after a label or inside an element id ("$0.00485" → 0.00485). */
function amountAfter(html: string, marker: string): number {
  const rest = html.slice(html.indexOf(marker) + marker.length)
  const match = /(−?)\$([\d,.]+)/.exec(rest)
  if (!match) throw new Error(`no amount after ${marker}`)
  return (match[1] ? -1 : 1) * Number(match[2]!.replaceAll(',', ''))
}

describe('savings of a new user', () => {
  it('count from the first minutes: month to date, projected and lifetime from the open segment (API, pages, CSV)', async () => {
    const { client, agent, startedAt } = await youngFleet()
    const before = Date.now()
    const res = await call('GET', `/api/client/${client.id}/savings?range=daily`, undefined, ADMIN)
    const after = Date.now()
    expect(res.status).toBe(200)
    const low = savedBy(startedAt, before)
    const high = savedBy(startedAt, after)
    for (const figure of [res.json.month_to_date, res.json.lifetime]) {
      expect(figure.savings).toBeGreaterThanOrEqual(low - 1e-6)
      expect(figure.savings).toBeLessThanOrEqual(high + 1e-6)
      expect(figure.baseline).toBeCloseTo((OD * (before - startedAt)) / H, 4)
    }
    // The month's rate since its first use (the registration), over the whole month.
    const monthEnd = monthBounds(before)[1]
    expect(res.json.projected_month.savings).toBeCloseTo(((OD - SPOT) * (monthEnd - startedAt)) / H, 2)
    expect(res.json.series).toHaveLength(1)

    const agents = await call('GET', `/api/client/${client.id}/savings/agents?period=month`, undefined, ADMIN)
    expect(agents.json.agents).toEqual([expect.objectContaining({ agent_id: agent.agentId })])
    expect(agents.json.agents[0].savings).toBeGreaterThanOrEqual(low - 1e-6)

    const overview = (await call('GET', `/c/${client.id}`, undefined, ADMIN)).text
    const portalMtd = amountAfter(overview, 'Saved this month')
    const savingsPage = (await call('GET', `/c/${client.id}/savings`, undefined, ADMIN)).text
    const adminOverview = (await call('GET', '/admin', undefined, ADMIN)).text
    for (const shown of [
      portalMtd,
      amountAfter(overview, 'Saved, lifetime'),
      amountAfter(savingsPage, 'id="savings-mtd"'),
      amountAfter(savingsPage, 'id="savings-lifetime"'),
      amountAfter(adminOverview, 'Saved this month'),
    ]) {
      // Shown to three significant digits (e.g. $0.00485), never as $0.00.
      expect(shown).toBeGreaterThan(0)
      expect(Math.abs(shown - low) / low).toBeLessThan(0.02)
    }

    const clientRows = (await call('GET', `/api/admin/clients?search=${client.id}`, undefined, ADMIN)).json
    const metrics = (await call('GET', `/api/client/instances/${agent.instanceId}/metrics`, undefined, ADMIN))
      .json
    for (const lifetime of [
      clientRows[0].totalSavings,
      (await call('GET', `/api/client/${client.id}`, undefined, ADMIN)).json.totalSavings,
      metrics.totalSavings,
      metrics.savingsLast30Days,
    ]) {
      expect(lifetime).toBeGreaterThanOrEqual(low - 1e-6)
      expect(lifetime).toBeLessThanOrEqual(savedBy(startedAt, Date.now()) + 1e-6)
    }

    const csv = (await call('GET', `/api/client/${client.id}/export/savings.csv`, undefined, ADMIN)).text
    const today = new Date(before).toISOString().slice(0, 10)
    expect(csv.split('\r\n').filter((l) => l.startsWith(`${today},${agent.agentId},`))).toHaveLength(1)

    // Once the hourly rollup has run, the same figures: its partial day is replaced, not added.
    await runScheduled(CRON_HOURLY, env, Date.now())
    const again = await call('GET', `/api/client/${client.id}/savings`, undefined, ADMIN)
    expect(again.json.lifetime.savings).toBeGreaterThanOrEqual(high - 1e-6)
    expect(again.json.lifetime.savings).toBeLessThanOrEqual(savedBy(startedAt, Date.now()) + 1e-6)
  })

  it('price the live days with the prices in force before them (reported days ago, unchanged since)', async () => {
    const { client, agent, startedAt } = await youngFleet()
    const [type] = (
      await db().select().from(usageSegments).where(eq(usageSegments.agentId, agent.agentId))
    ).map((s) => s.instanceType)
    // Only change points from three days ago: the live window (today) starts long after them.
    await db()
      .delete(spotPrices)
      .where(eq(spotPrices.poolId, `${type}.us-east-1a`))
    await db().delete(ondemandPrices).where(eq(ondemandPrices.instanceType, type!))
    await db()
      .insert(spotPrices)
      .values({ poolId: `${type}.us-east-1a`, price: SPOT, observedAt: Date.now() - 3 * 24 * H })
    await db()
      .insert(ondemandPrices)
      .values({ instanceType: type!, region: 'us-east-1', price: OD, observedAt: Date.now() - 3 * 24 * H })
    await runScheduled(CRON_HOURLY, env, Date.now())
    const before = Date.now()
    const res = await call('GET', `/api/client/${client.id}/savings`, undefined, ADMIN)
    expect(res.json.month_to_date.savings).toBeGreaterThanOrEqual(savedBy(startedAt, before) - 1e-6)
    expect(res.json.month_to_date.savings).toBeLessThanOrEqual(savedBy(startedAt, Date.now()) + 1e-6)
  })
})
