/**
 * Cleanup reports' retention (flows/cleanup.ts, the hourly cron's `cleanup-reports` job): a report is
 * kept 30 days after the control plane received it, then deleted, bounded per run; what the agent's
 * page and the client API show follows. The cron runs at an injected time.
 */
import { env } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { CRON_HOURLY } from '../../../src/cron'
import { cronRuns } from '../../../src/db/schema'
import {
  CLEANUP_REPORT_RETENTION_MS,
  deleteExpiredCleanupReports,
  recordCleanupReport,
} from '../../../src/flows/cleanup'
import { runScheduled } from '../../../src/scheduled'
import { post, seedAgent, type SeededAgent } from '../session/seed'
import { db, get, seedUser } from './seed'

const DAY = 86_400_000
const AMI = (n: number) => `ami-0${String(n).padStart(16, '0')}`

function cleanupReport(n: number) {
  return {
    timestamp: new Date().toISOString(),
    amis: { type: 'amis', deleted_amis: [AMI(n)], deleted_snapshots: [], failed: [] },
  }
}

/** The agent's reports as the client API shows them (the first page of `limit`) and their total. */
async function reportsOf(agent: SeededAgent, headers: Record<string, string>, query = '') {
  const res = await get(`/api/client/agents/${agent.agentId}/cleanup-reports${query}`, headers)
  expect(res.status).toBe(200)
  const items = (await res.json()) as Array<{ deletedAmis: string[] }>
  return { amis: items.flatMap((r) => r.deletedAmis), total: Number(res.headers.get('X-Total-Count')) }
}

describe('cleanup report retention', () => {
  it('keeps reports 30 days after they arrived, then the hourly cron deletes them; newer ones stay on the page', async () => {
    const agent = await seedAgent('5.0.0')
    const owner = await seedUser(agent.clientId, 'owner')
    const arrived = Date.now()
    for (const n of [1, 2, 3])
      expect((await post(agent, '/cleanup-report', cleanupReport(n))).status).toBe(201)
    // One that arrived two days later (the agent's next reports).
    await recordCleanupReport(
      db(),
      {
        clientId: agent.clientId,
        agentId: agent.agentId,
        reportedAt: arrived + 2 * DAY,
        snapshotsDeleted: 0,
        amisDeleted: 1,
        failures: 0,
        error: null,
        body: cleanupReport(4),
      },
      arrived + 2 * DAY,
    )
    // The API pages them: the second page of two holds two of the three first reports.
    const second = await reportsOf(agent, owner.headers, '?limit=2&page=2')
    expect(second.total).toBe(4)
    expect(second.amis).toHaveLength(2)
    expect(second.amis).not.toContain(AMI(4))

    // A day before the retention ends, nothing goes.
    await runScheduled(CRON_HOURLY, env, arrived + CLEANUP_REPORT_RETENTION_MS - DAY)
    expect((await reportsOf(agent, owner.headers)).total).toBe(4)

    // Past it: the three first reports are deleted, the later one is kept.
    await runScheduled(CRON_HOURLY, env, arrived + CLEANUP_REPORT_RETENTION_MS + 60_000)
    expect(await reportsOf(agent, owner.headers)).toEqual({ amis: [AMI(4)], total: 1 })
    const [run] = await db().select().from(cronRuns).where(eq(cronRuns.job, 'cleanup-reports'))
    expect(run).toMatchObject({ ok: true })
    expect(JSON.parse(run!.detail!).deleted).toBeGreaterThanOrEqual(3)
    const page = await (await get(`/c/${agent.clientId}/agents/${agent.agentId}`, owner.headers)).text()
    const panel = page.slice(page.indexOf('id="cleanup-reports"'))
    expect(panel).toContain(AMI(4))
    expect(panel).not.toContain(AMI(1))
  })

  it('deletes at most its limit per run, the oldest first, and the next run carries on', async () => {
    const agent = await seedAgent('5.0.0')
    const owner = await seedUser(agent.clientId, 'owner')
    const start = Date.now() - 40 * DAY
    for (const n of [1, 2, 3])
      await recordCleanupReport(
        db(),
        {
          clientId: agent.clientId,
          agentId: agent.agentId,
          reportedAt: start + n * DAY,
          snapshotsDeleted: 0,
          amisDeleted: 1,
          failures: 0,
          error: null,
          body: cleanupReport(n),
        },
        start + n * DAY,
      )
    const now = Date.now()
    expect(await deleteExpiredCleanupReports(db(), now, 2)).toEqual({ deleted: 2 })
    expect(await reportsOf(agent, owner.headers)).toEqual({ amis: [AMI(3)], total: 1 })
    expect(await deleteExpiredCleanupReports(db(), now, 2)).toEqual({ deleted: 1 })
    expect(await deleteExpiredCleanupReports(db(), now, 2)).toEqual({ deleted: 0 })
    expect((await reportsOf(agent, owner.headers)).total).toBe(0)
  })
})
