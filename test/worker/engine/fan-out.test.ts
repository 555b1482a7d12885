import { env } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { cronRuns } from '../../../src/db/schema'
import type { ClientRunSummary } from '../../../src/flows/engine-tick/client-run'
import type { RunParams } from '../../../src/flows/engine-tick/run'
import { CRON_ENGINE } from '../../../src/cron'
import { runScheduled } from '../../../src/scheduled'
import { fanOut } from '../../../src/flows/engine-tick/fan-out'
import { db, newClient, type TestClient } from '../agent-api/helpers'
import { agentOn, decisionsOf, freshType, reportPrices, setAgent, switchCommands } from './market'

const PRICES = { a: 0.02, b: 0.0125, c: 0.013 }

/** An on-demand auto-switch agent of `client` whose market allows a move now. */
async function readyAgent(client: TestClient) {
  const type = freshType()
  const a = await agentOn(type, 'ondemand', '5.0.0', client)
  await reportPrices(a, type, PRICES)
  await setAgent(a.agentId, { minPoolDurationHours: 0 })
  return a
}

/** Decisions stored by the run at `now` (a repeat of an identical decision moves its lastSeenAt). */
const decidedAt = async (agentId: string, now: number) =>
  (await decisionsOf(agentId)).filter((d) => d.lastSeenAt === now && !d.shadow)

describe('engine cron fan-out', () => {
  it('runs each enabled agent of every client; disabled and deleted agents get nothing', async () => {
    const [one, two] = [await newClient(), await newClient()]
    const ready = [await readyAgent(one), await readyAgent(one), await readyAgent(two)]
    const disabled = await readyAgent(two)
    await setAgent(disabled.agentId, { enabled: false })
    const deleted = await readyAgent(one)
    await setAgent(deleted.agentId, { status: 'deleted', enabled: false, deletedAt: Date.now() })

    const now = Date.now() + 1
    await runScheduled(CRON_ENGINE, env, now)

    for (const a of ready) {
      const [decision, ...more] = await decidedAt(a.agentId, now)
      expect(more).toEqual([])
      expect(decision).toMatchObject({ decision: 'to_spot', clientId: a.client.id })
      const pools = (decision!.inputs as { pools: Record<string, unknown>[] }).pools
      expect(pools.length).toBeGreaterThan(0)
      // No instance of these fresh pools ever lived: the lifetime evidence is "none", stored beside the risk.
      for (const pool of pools)
        expect(pool).toMatchObject({ risk: expect.any(Number), mean_lifetime_h: null })
      expect(await switchCommands(a.agentId)).toHaveLength(1)
    }
    for (const a of [disabled, deleted]) {
      expect(await decidedAt(a.agentId, now)).toEqual([])
      expect(await switchCommands(a.agentId)).toHaveLength(0)
    }
    const [run] = await db().select().from(cronRuns).where(eq(cronRuns.job, 'engine'))
    expect(run).toMatchObject({ ok: true, startedAt: now })
    const detail = JSON.parse(run!.detail!) as { agents: number; commands: number; failed: number }
    expect(detail).toMatchObject({ clients: 2, agents: 3, failed: 0, failedClients: 0 })
    // The pricing reports' own runs may have queued a switch first; then the cron's run is a duplicate.
    expect(detail.commands).toBeLessThanOrEqual(3)
  })

  it('pages through the clients past its page size, a bounded number in flight; a failing client is counted and the others still run', async () => {
    const made = await Promise.all(Array.from({ length: 7 }, () => newClient()))
    // The first of them in id order fails: the ones after it, on its page and later pages, still run.
    const failing = made.map((c) => c.id).sort()[0]!
    const calls: { clientId: string; params: RunParams }[] = []
    let inFlight = 0
    let maxInFlight = 0
    const run = async (clientId: string, params: RunParams): Promise<ClientRunSummary> => {
      calls.push({ clientId, params })
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await Promise.resolve()
      await Promise.resolve()
      inFlight--
      if (clientId === failing) throw new Error('D1 overloaded')
      return made.some((c) => c.id === clientId)
        ? { agents: 2, commands: 1, failed: 0 }
        : { agents: 0, commands: 0, failed: 0 }
    }
    const summary = await fanOut(db(), run, { pageSize: 2, concurrency: 2 })

    const ids = calls.map((c) => c.clientId)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids).toEqual([...ids].sort())
    for (const c of made) expect(ids).toContain(c.id)
    expect(summary).toEqual({ clients: 6, agents: 12, commands: 6, failed: 0, failedClients: 1 })
    expect(maxInFlight).toBe(2)
    expect(calls[0]!.params).toMatchObject({ active: { version: expect.any(Number) } })
    expect(new Set(calls.map((c) => c.params)).size).toBe(1)
  })
})
