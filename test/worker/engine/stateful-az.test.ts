/**
 * A stateful workload stays in its AZ (its data volumes are bound to it; its agent refuses a switch
 * elsewhere): the engine weighs only pools of that AZ, the options page says why the others are not
 * chosen, and a person's force-switch to another AZ is refused with a 409 instead of a command the
 * agent would refuse. A stateless workload moves as before.
 */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { commands } from '../../../src/db/schema'
import { ADMIN, call, db, newAgent, seedFreshPools, type TestAgent } from '../agent-api/helpers'
import { eventually } from '../../support/eventually'
import { agentOn, decisionsOf, freshType, reportPrices, setAgent, switchCommands } from './market'

/** The engine's first switch command for `a` (its pricing report's own run decides it). */
const firstSwitch = async (a: TestAgent) =>
  (
    await eventually(
      async () => {
        const found = await switchCommands(a.agentId)
        return found.length > 0 ? found : undefined
      },
      { what: 'the engine switch' },
    )
  )[0]!

/** An on-demand agent in us-east-1a of `type`, switching on its own; stateful or not. */
async function onDemandAgent(type: string, stateful: boolean) {
  const a = await agentOn(type, 'ondemand')
  await setAgent(a.agentId, { minPoolDurationHours: 0, autoSwitchEnabled: true, stateful })
  return a
}

const options = async (a: TestAgent) => {
  const res = await call('GET', `/api/client/instances/${a.instanceId}/options?limit=100`, undefined, ADMIN)
  expect(res.status).toBe(200)
  return Object.fromEntries(
    (res.json.items as { poolId: string | null; az: string; reason: string }[]).map((r) => [
      r.poolId,
      r.reason,
    ]),
  )
}

describe('a stateful workload and its AZ', () => {
  it('goes to the best pool of its own AZ when another AZ is cheaper; a stateless one goes to the cheaper AZ', async () => {
    const type = freshType()
    const prices = { a: 0.02, b: 0.005, c: 0.006 }
    const stateful = await onDemandAgent(type, true)
    await reportPrices(stateful, type, prices)
    expect(await firstSwitch(stateful)).toMatchObject({
      targetMode: 'spot',
      targetPoolId: `${type}.us-east-1a`,
    })
    const [decision] = await decisionsOf(stateful.agentId)
    expect(decision!.reasons).toContain('2 pool(s) skipped: stateful other az')
    // The options page says why b and c are not chosen.
    const reasons = await options(stateful)
    expect(reasons[`${type}.us-east-1b`]).toBe('stateful: data volumes stay in us-east-1a')
    expect(reasons[`${type}.us-east-1c`]).toBe('stateful: data volumes stay in us-east-1a')

    const stateless = await onDemandAgent(type, false)
    await reportPrices(stateless, type, prices)
    expect(await firstSwitch(stateless)).toMatchObject({
      targetMode: 'spot',
      targetPoolId: `${type}.us-east-1b`,
    })
    expect((await options(stateless))[`${type}.us-east-1c`]).not.toContain('stateful')
  })

  it('stays on spot in its AZ when the only cheaper pools are in other AZs', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    await setAgent(a.agentId, { minPoolDurationHours: 0, autoSwitchEnabled: true, stateful: true })
    await reportPrices(a, type, { a: 0.02, b: 0.004, c: 0.005 }, 'spot')
    const [decision] = await eventually(
      async () => {
        const found = await decisionsOf(a.agentId)
        return found.length > 0 ? found : undefined
      },
      { what: 'the engine decision' },
    )
    expect(decision).toMatchObject({ decision: 'stay', targetPoolId: null })
    expect(decision!.reasons).toContain('2 pool(s) skipped: stateful other az')
    expect(await switchCommands(a.agentId)).toHaveLength(0)
  })
})

describe('force-switch of a stateful workload', () => {
  const forceSwitch = (instanceId: string, body: unknown) =>
    call('POST', `/api/client/instances/${instanceId}/force-switch`, body, ADMIN)
  const commandsOf = (agentId: string) => db().select().from(commands).where(eq(commands.agentId, agentId))

  it('queues a pool in another AZ with a note that the address changes; "go spot" stays in its AZ', async () => {
    const stateful = await newAgent(undefined, { mode: 'ondemand' }) // t3.medium in us-east-1a
    await setAgent(stateful.agentId, { stateful: true })
    await seedFreshPools(stateful.client.id)
    const across = await forceSwitch(stateful.instanceId, {
      target: 'pool',
      pool_id: 't3.medium.us-east-1c',
    })
    expect([across.status, across.json.success]).toEqual([200, true])
    expect(across.json.message).toContain(
      'stateful: the data volumes are copied from us-east-1a to us-east-1c from a snapshot taken ' +
        'during the switch, and the private address changes',
    )
    expect(await commandsOf(stateful.agentId)).toMatchObject([{ targetPoolId: 't3.medium.us-east-1c' }])
    // "Go spot" picks the safest pool of its own AZ, not the cheapest elsewhere (c).
    const other = await newAgent(undefined, { mode: 'ondemand' })
    await setAgent(other.agentId, { stateful: true })
    await seedFreshPools(other.client.id)
    const spot = await forceSwitch(other.instanceId, { target: 'spot' })
    expect(spot.status).toBe(200)
    expect(await commandsOf(other.agentId)).toMatchObject([{ targetPoolId: 't3.medium.us-east-1a' }])

    const stateless = await newAgent(undefined, { mode: 'ondemand' })
    await seedFreshPools(stateless.client.id)
    const moved = await forceSwitch(stateless.instanceId, { target: 'pool', pool_id: 't3.medium.us-east-1c' })
    expect([moved.status, moved.json.success]).toEqual([200, true])
    expect(await commandsOf(stateless.agentId)).toMatchObject([{ targetPoolId: 't3.medium.us-east-1c' }])
  })
})
