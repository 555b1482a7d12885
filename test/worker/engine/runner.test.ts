import { env } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { cronRuns } from '../../../src/db/schema'
import { runContext, runForAgent } from '../../../src/flows/engine-tick/run'
import { CRON_ENGINE } from '../../../src/cron'
import { runScheduled } from '../../../src/scheduled'
import { call, db } from '../agent-api/helpers'
import { agentOn, decisionsOf, freshType, loadAgent, reportPrices, setAgent, switchCommands } from './market'

const PRICES = { a: 0.02, b: 0.0125, c: 0.013 }

/** An on-demand agent whose thresholds allow a move now (no minimum stay). */
async function readyAgent(version = '5.0.0') {
  const type = freshType()
  const a = await agentOn(type, 'ondemand', version)
  await reportPrices(a, type, PRICES)
  await setAgent(a.agentId, { minPoolDurationHours: 0 })
  return { a, type }
}

describe('engine runner', () => {
  it('moves an auto-switch agent to the safest cheap pool with one engine command, never a duplicate', async () => {
    const { a, type } = await readyAgent()
    await runScheduled(CRON_ENGINE, env, Date.now())
    const [command, ...more] = await switchCommands(a.agentId)
    expect(more).toEqual([])
    expect(command).toMatchObject({
      source: 'engine',
      priority: 25,
      targetMode: 'spot',
      targetPoolId: `${type}.us-east-1b`,
      instanceId: a.instanceId,
    })
    const applied = (await decisionsOf(a.agentId)).find((d) => d.commandId === command!.id)
    expect(applied).toMatchObject({ decision: 'to_spot', targetPoolId: `${type}.us-east-1b`, shadow: false })
    expect(applied!.reasons).not.toEqual([])

    await runScheduled(CRON_ENGINE, env, Date.now())
    await runScheduled(CRON_ENGINE, env, Date.now())
    expect(await switchCommands(a.agentId)).toHaveLength(1)
    const latest = (await decisionsOf(a.agentId)).sort((x, y) => y.lastSeenAt - x.lastSeenAt)[0]!
    expect(latest).toMatchObject({ decision: 'stay', blockedBy: ['command_in_flight'], repeatCount: 2 })
    const [run] = await db().select().from(cronRuns).where(eq(cronRuns.job, 'engine'))
    expect(run).toMatchObject({ ok: true })
  })

  it('only suggests for a legacy agent unless the client opted in for it', async () => {
    const { a } = await readyAgent('4.0.0')
    const ctx = await runContext(db())
    const first = await runForAgent(env, db(), await loadAgent(a.agentId), ctx, Date.now(), {
      store: true,
      act: true,
    })
    expect(first.action).toMatchObject({ kind: 'suggestion', why: expect.stringContaining('legacy') })
    expect(await switchCommands(a.agentId)).toHaveLength(0)
    await setAgent(a.agentId, { legacyAutoSwitchOptIn: true })
    const second = await runForAgent(env, db(), await loadAgent(a.agentId), ctx, Date.now(), {
      store: true,
      act: true,
    })
    expect(second.action.kind).toBe('command')
    expect(await switchCommands(a.agentId)).toHaveLength(1)
  })

  it('with auto-switch off: suggestions only; decide and switch-recommendation answer; issue-switch-command is 403', async () => {
    const { a, type } = await readyAgent()
    await setAgent(a.agentId, { autoSwitchEnabled: false })
    await runScheduled(CRON_ENGINE, env, Date.now())
    expect(await switchCommands(a.agentId)).toHaveLength(0)
    const decide = await call('POST', `/api/agents/${a.agentId}/decide`, {}, a.client.auth)
    expect(decide.status).toBe(200)
    expect(decide.json).toMatchObject({
      decision: 'to_spot',
      should_switch: true,
      target_mode: 'spot',
      target_pool_id: `${type}.us-east-1b`,
      params_version: 0,
    })
    const rec = await call('GET', `/api/agents/${a.agentId}/switch-recommendation`, undefined, a.client.auth)
    expect(rec.json).toMatchObject({ decision: 'to_spot', decision_id: null })
    const issue = await call(
      'POST',
      `/api/agents/${a.agentId}/issue-switch-command`,
      { target_mode: 'spot' },
      a.client.auth,
    )
    expect(issue.status).toBe(403)
    expect(await switchCommands(a.agentId)).toHaveLength(0)
  })

  it('issue-switch-command queues once (201), then says a switch is pending or the instance is already there', async () => {
    const { a, type } = await readyAgent()
    const same = await call(
      'POST',
      `/api/agents/${a.agentId}/issue-switch-command`,
      { target_mode: 'ondemand' },
      a.client.auth,
    )
    expect(same).toMatchObject({ status: 200, json: { success: false } })
    const first = await call(
      'POST',
      `/api/agents/${a.agentId}/issue-switch-command`,
      { target_mode: 'spot', reason: 'test' },
      a.client.auth,
    )
    expect(first.status).toBe(201)
    expect(first.json).toMatchObject({
      success: true,
      command_id: expect.any(String),
      target_pool_id: `${type}.us-east-1b`,
    })
    const again = await call(
      'POST',
      `/api/agents/${a.agentId}/issue-switch-command`,
      { target_mode: 'spot', target_pool_id: `${type}.us-east-1c` },
      a.client.auth,
    )
    expect(again).toMatchObject({ status: 200, json: { success: false, command_id: first.json.command_id } })
    const bad = await call(
      'POST',
      `/api/agents/${a.agentId}/issue-switch-command`,
      { target_mode: 'moon' },
      a.client.auth,
    )
    expect(bad.status).toBe(400)
  })

  it('leaves a disabled agent alone', async () => {
    const { a } = await readyAgent()
    await setAgent(a.agentId, { enabled: false })
    await runScheduled(CRON_ENGINE, env, Date.now())
    expect(await switchCommands(a.agentId)).toHaveLength(0)
  })
})
