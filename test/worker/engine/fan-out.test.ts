import { env } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { cronRuns } from '../../../src/db/schema'
import { loadRunParams } from '../../../src/flows/engine-tick/run'
import { CRON_ENGINE } from '../../../src/cron'
import { runScheduled } from '../../../src/scheduled'
import { sessionOf } from '../../../src/session/stub'
import { fanOut } from '../../../src/flows/engine-tick/fan-out'
import type { EngineTickInput, EngineTickResult } from '../../../src/session/types'
import { db, newAgent, newClient, type TestClient } from '../agent-api/helpers'
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
  it('runs each enabled agent of every client in its object; disabled and deleted agents get nothing', async () => {
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
    expect(detail).toMatchObject({ agents: 3, failed: 0 })
    // The pricing reports' own runs may have queued a switch first; then the cron's run is a duplicate.
    expect(detail.commands).toBeLessThanOrEqual(3)
  })

  it("an agent's object skips a run for an agent disabled since the page was read, or another client's; else it queues the switch to itself", async () => {
    const client = await newClient()
    // Auto-switch off while the report's own run decides, so the switch can only come from this tick.
    const type = freshType()
    const a = await agentOn(type, 'ondemand', '5.0.0', client)
    await setAgent(a.agentId, { autoSwitchEnabled: false })
    await reportPrices(a, type, PRICES)
    await setAgent(a.agentId, { autoSwitchEnabled: true, minPoolDurationHours: 0 })
    const params = await loadRunParams(db())
    const now = Date.now() + 2
    const tick = (clientId: string) =>
      sessionOf(env, a.agentId).engineTick({ clientId, agentId: a.agentId, params, now })
    expect(await tick((await newClient()).id)).toEqual({ kind: 'skipped' })
    await setAgent(a.agentId, { enabled: false })
    expect(await tick(client.id)).toEqual({ kind: 'skipped' })
    expect(await decidedAt(a.agentId, now)).toEqual([])
    await setAgent(a.agentId, { enabled: true })
    expect(await switchCommands(a.agentId)).toHaveLength(0)
    expect(await tick(client.id)).toEqual({ kind: 'decided', action: 'command' })
    expect(await decidedAt(a.agentId, now)).toHaveLength(1)
    expect(await switchCommands(a.agentId)).toMatchObject([{ source: 'engine', targetMode: 'spot' }])
  })

  it('pages past its page size, a bounded number in flight; a failing agent is counted and the others still run', async () => {
    const client = await newClient()
    const fresh = await Promise.all(Array.from({ length: 7 }, () => newAgent(client)))
    const off = await newAgent(client)
    await setAgent(off.agentId, { enabled: false })
    // The first of them in id order fails: the ones after it, on its page and later pages, still run.
    const failing = fresh.map((a) => a.agentId).sort()[0]!
    const deciding = fresh.find((a) => a.agentId !== failing)!.agentId
    const calls: EngineTickInput[] = []
    let inFlight = 0
    let maxInFlight = 0
    const tick = async (input: EngineTickInput): Promise<EngineTickResult> => {
      calls.push(input)
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await Promise.resolve()
      await Promise.resolve()
      inFlight--
      if (input.agentId === failing) throw new Error('object overloaded')
      return { kind: 'decided', action: input.agentId === deciding ? 'command' : 'none' }
    }
    const now = Date.now()
    const summary = await fanOut(db(), now, tick, { pageSize: 2, concurrency: 2 })

    const ids = calls.map((c) => c.agentId)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids).toEqual([...ids].sort())
    for (const a of fresh) expect(ids).toContain(a.agentId)
    expect(ids).not.toContain(off.agentId)
    expect(summary).toEqual({ agents: ids.length, commands: 1, failed: 1 })
    expect(ids.length).toBeGreaterThan(2 * 2)
    expect(maxInFlight).toBe(2)
    const mine = calls.find((c) => c.agentId === fresh[0]!.agentId)!
    expect(mine).toMatchObject({
      clientId: client.id,
      now,
      params: { active: { version: expect.any(Number) } },
    })
  })
})
