/**
 * The way back to spot in the Worker: an interruption whose replacement found no spot capacity leaves
 * the workload on on-demand; the engine queues the switch back to a spot pool once one is safe again,
 * with its own reason, and not while the flapping budget is spent.
 */
import { env } from 'cloudflare:test'
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { commands, priceQuotes, replicas, switches } from '../../../src/db/schema'
import { runContext, runForAgent } from '../../../src/flows/engine-tick/run'
import { eventually } from '../../support/eventually'
import { ADMIN, call, db, runCommand, type TestAgent } from '../agent-api/helpers'
import { agentOn, decisionsOf, freshType, loadAgent, reportPrices, switchCommands } from './market'

const MIN = 60_000
const HOUR = 60 * MIN
const ec2Id = () => `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`

/** A 5.x agent on spot in pool a of a fresh type; b the cheapest other pool, then c. */
async function spotAgent() {
  const type = freshType()
  const a = await agentOn(type, 'spot')
  await reportPrices(a, type, { a: 0.0125, b: 0.013, c: 0.03 }, 'spot')
  return { a, type }
}

/**
 * An interruption of `instanceId`: every spot replacement fails for capacity, so the on-demand one is
 * launched and promoted, as the 5.x agent and the control plane do it. Returns the on-demand instance.
 */
async function interruptOntoOnDemand(a: TestAgent, instanceId: string): Promise<string> {
  const base = `/api/agents/${a.agentId}`
  const terminationTime = new Date(Date.now() + 120_000).toISOString()
  const notice = await call(
    'POST',
    `${base}/termination-imminent`,
    { instance_id: instanceId, termination_time: terminationTime, detected_at: new Date().toISOString() },
    a.client.auth,
  )
  expect(notice.status).toBe(409)
  const created = await call(
    'POST',
    `${base}/create-emergency-replica`,
    { signal_type: 'termination-notice', instance_id: instanceId, termination_time: terminationTime },
    a.client.auth,
  )
  expect(created.status).toBe(201)
  for (let attempt = 0; attempt < 4; attempt++) {
    const [launching] = await db()
      .select()
      .from(replicas)
      .where(and(eq(replicas.agentId, a.agentId), eq(replicas.status, 'launching')))
    if (launching!.mode === 'ondemand') {
      const onDemand = ec2Id()
      const put = await call(
        'PUT',
        `${base}/replicas/${launching!.id}`,
        { instance_id: onDemand },
        a.client.auth,
      )
      expect(put.json).toMatchObject({ status: 'promoted' })
      return onDemand
    }
    await call(
      'POST',
      `${base}/replicas/${launching!.id}/status`,
      {
        status: 'failed',
        error_message: `RunInstances: InsufficientInstanceCapacity in ${launching!.poolId}`,
      },
      a.client.auth,
    )
  }
  throw new Error('no on-demand replacement after the spot attempts')
}

/** The engine's run for the agent at `now` (its prices confirmed a minute before), acting on it. */
async function engineAt(a: TestAgent, now: number) {
  await db()
    .update(priceQuotes)
    .set({ reportedAt: now - MIN })
    .where(eq(priceQuotes.clientId, a.client.id))
  const run = await runForAgent(env, db(), await loadAgent(a.agentId), await runContext(db()), now, {
    store: true,
    act: true,
  })
  return { run, decision: run.decision! }
}

describe('the way back to spot', () => {
  it('after an interruption left the workload on on-demand, queues the switch back once a pool is safe, with its reason in decisions', async () => {
    const { a, type } = await spotAgent()
    const onDemand = await interruptOntoOnDemand(a, a.instanceId)
    const [sw] = await db().select().from(switches).where(eq(switches.agentId, a.agentId))
    expect(sw).toMatchObject({ trigger: 'interruption', oldMode: 'spot', newMode: 'ondemand' })
    expect((await loadAgent(a.agentId)).instanceId).toBe(onDemand)
    const t0 = Date.now()

    // pool a interrupted it, b and c just refused capacity: nothing is safe yet
    const early = await engineAt(a, t0)
    expect(early.decision).toMatchObject({ decision: 'stay', reason_code: null })
    expect(early.decision.reasons.join('; ')).toContain('not back to spot yet')
    expect(await switchCommands(a.agentId)).toEqual([])

    // the capacity errors are minutes old: pool b is a candidate again (a still skipped)
    const later = await engineAt(a, t0 + 5 * MIN)
    expect(later.run.action.kind).toBe('command')
    const [command, ...more] = await switchCommands(a.agentId)
    expect(more).toEqual([])
    expect(command).toMatchObject({
      source: 'engine',
      targetMode: 'spot',
      targetPoolId: `${type}.us-east-1b`,
      instanceId: onDemand,
    })
    const stored = (await decisionsOf(a.agentId)).find((d) => d.commandId === command!.id)
    expect(stored).toMatchObject({ decision: 'to_spot', reasonCode: 'back_to_spot' })
    expect((stored!.reasons as string[])[0]).toMatch(/^back to spot: an interruption left the workload/)

    // shown where decisions are shown: the client API and the decisions page
    const api = await call(
      'GET',
      `/api/client/${a.client.id}/decisions?agent_id=${a.agentId}`,
      undefined,
      ADMIN,
    )
    expect(api.json.find((d: { id: string }) => d.id === stored!.id)).toMatchObject({
      reasonCode: 'back_to_spot',
    })
    const page = await call('GET', `/c/${a.client.id}/decisions`, undefined, ADMIN)
    expect(page.text).toContain('back to spot')
  })

  it('with the flapping budget spent (left spot twice within 6 h), waits on on-demand until the first exit is 6 h old', async () => {
    const { a, type } = await spotAgent()
    const firstOnDemand = await interruptOntoOnDemand(a, a.instanceId)
    const [first] = await db().select().from(switches).where(eq(switches.agentId, a.agentId))
    const t0 = Date.now()
    await engineAt(a, t0 + 5 * MIN)
    const [back] = await switchCommands(a.agentId)
    expect(back).toMatchObject({ targetPoolId: `${type}.us-east-1b` })

    // the agent runs the switch back to spot (pool b), then pool b interrupts it too
    await runCommand(a, back!.id, firstOnDemand, true, 'switched')
    const spot = ec2Id()
    const side = (instanceId: string, mode: string, az: string) => ({
      instance_id: instanceId,
      instance_type: type,
      region: 'us-east-1',
      az: `us-east-1${az}`,
      mode,
      pool_id: `${type}.us-east-1${az}`,
    })
    const report = await call(
      'POST',
      `/api/agents/${a.agentId}/switch-report`,
      {
        command_id: back!.id,
        trigger: 'engine',
        old_instance: side(firstOnDemand, 'ondemand', 'a'),
        new_instance: side(spot, 'spot', 'b'),
      },
      a.client.auth,
    )
    expect(report.status).toBe(201)
    await eventually(
      async () =>
        (await db().select().from(commands).where(eq(commands.id, back!.id)))[0]?.status === 'completed',
      { what: 'the switch back completed', timeoutMs: 5_000, intervalMs: 20 },
    )
    await interruptOntoOnDemand(a, spot)
    const exits = (await db().select().from(switches).where(eq(switches.agentId, a.agentId))).filter(
      (s) => s.oldMode === 'spot' && s.newMode === 'ondemand',
    )
    expect(exits).toHaveLength(2)

    // past the cooldown, every pool safe again: the move back is named and held by the budget
    const held = await engineAt(a, t0 + 40 * MIN)
    expect(held.decision).toMatchObject({
      decision: 'stay',
      reason_code: 'back_to_spot',
      blocked_by: ['flapping_budget'],
    })
    expect(await switchCommands(a.agentId)).toHaveLength(1)

    // once the first exit is 6 h old, the budget lets it back to spot
    const freed = await engineAt(a, first!.receivedAt + 6 * HOUR + MIN)
    expect(freed.decision).toMatchObject({ decision: 'to_spot', reason_code: 'back_to_spot', blocked_by: [] })
    expect(freed.run.action.kind).toBe('command')
    expect(await switchCommands(a.agentId)).toHaveLength(2)
  })
})
