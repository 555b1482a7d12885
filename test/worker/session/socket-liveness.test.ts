/**
 * Liveness over the push socket: the runtime's automatic pong, the socket heartbeat that keeps the
 * object's one alarm ahead of itself, and offline found from a closed or a silent (half-open) socket.
 * Time passing is the object's last sign of life moved back (no waiting); alarms run explicitly.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { OFFLINE_AFTER_MS } from '../../../src/session/liveness'
import { readLiveness, writeLiveness } from '../../../src/session/store'
import { sessionOf } from '../../../src/session/stub'
import { agentRow, connect, notificationsOf, seedAgent, type SeededAgent } from './seed'

function heartbeat(agent: SeededAgent, status = 'online') {
  return {
    type: 'heartbeat',
    status,
    instance_id: agent.instanceId,
    instance_type: 't3.large',
    mode: 'spot',
    az: 'us-east-1b',
  }
}

/** The object's last sign of life moved `ms` into the past (time passing with nothing heard). */
async function silence(agent: SeededAgent, ms: number) {
  await runInDurableObject(sessionOf(env, agent.agentId), (_instance, state) => {
    const liveness = readLiveness(state.storage.sql)
    writeLiveness(state.storage.sql, { ...liveness, lastSeenAt: liveness.lastSeenAt! - ms })
  })
}

/** The object's alarm, recorded liveness and its sockets' last automatic pings (epoch ms). */
function objectOf(agent: SeededAgent) {
  return runInDurableObject(sessionOf(env, agent.agentId), async (_instance, state) => ({
    alarm: await state.storage.getAlarm(),
    liveness: readLiveness(state.storage.sql),
    pings: state.getWebSockets().map((ws) => state.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? null),
  }))
}

/** The alarm rings at most 120 s after the last sign of life. */
function expectArmedFor(alarm: number | null, lastSeenAt: number) {
  expect(alarm).toBeLessThanOrEqual(lastSeenAt + OFFLINE_AFTER_MS)
  expect(alarm).toBeGreaterThan(lastSeenAt + OFFLINE_AFTER_MS - 60_000)
}

/** Sets the object's alarm to ring in 30 s, as armed by a heartbeat 90 s ago. */
async function alarmNear(agent: SeededAgent): Promise<number> {
  const near = Date.now() + OFFLINE_AFTER_MS - 90_000
  await runInDurableObject(sessionOf(env, agent.agentId), (_instance, state) => state.storage.setAlarm(near))
  return near
}

/** A connected 5.x agent that has read its `hello`. */
async function connected(agent: SeededAgent) {
  const link = await connect(agent)
  expect(await link.next()).toMatchObject({ type: 'hello' })
  return link
}

describe('the automatic ping', () => {
  it('is answered pong by the runtime, which keeps its time (local workerd honours the auto-response)', async () => {
    const agent = await seedAgent('5.0.0')
    const link = await connected(agent)
    expect((await objectOf(agent)).pings).toEqual([null])
    link.send({ type: 'ping' })
    expect(await link.next()).toEqual({ type: 'pong' })
    const [pinged] = (await objectOf(agent)).pings
    expect(pinged).not.toBeNull()
    expect(Math.abs(pinged! - Date.now())).toBeLessThan(10_000)
    link.close()
  })
})

describe('the socket heartbeat', () => {
  it('is recorded like the HTTP one (facts in D1), answered heartbeat_ok, and arms the alarm ≤ 120 s later', async () => {
    const agent = await seedAgent('5.0.0')
    const link = await connected(agent)
    link.send(heartbeat(agent))
    expect(await link.next()).toMatchObject({ type: 'heartbeat_ok', server_time: expect.any(String) })
    const { alarm, liveness } = await objectOf(agent)
    expect(liveness).toMatchObject({
      status: 'online',
      facts: { instanceId: agent.instanceId, instanceType: 't3.large', mode: 'spot', az: 'us-east-1b' },
    })
    expectArmedFor(alarm, liveness.lastSeenAt!)
    link.send(heartbeat(agent, 'disabled'))
    expect(await link.next()).toMatchObject({ type: 'heartbeat_ok' })
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'disabled' })
    link.close()
  })

  it('moves an alarm that would ring before the next heartbeat (90 s later), even one not yet near', async () => {
    const agent = await seedAgent('5.0.0')
    const link = await connected(agent)
    link.send(heartbeat(agent))
    await link.next()
    // As re-armed from a ping by an alarm that rang early: 75 s away, 15 s before the next heartbeat.
    const early = Date.now() + 75_000
    await runInDurableObject(sessionOf(env, agent.agentId), (_instance, state) =>
      state.storage.setAlarm(early),
    )
    link.send(heartbeat(agent))
    await link.next()
    const live = await sessionOf(env, agent.agentId).liveness(agent)
    expect((await objectOf(agent)).alarm).toBe(live!.lastSeenAt + OFFLINE_AFTER_MS)
    link.close()
  })

  it('moves the alarm later once it is near, so a live agent’s object runs no alarm', async () => {
    const agent = await seedAgent('5.0.0')
    const link = await connected(agent)
    const early = await alarmNear(agent)
    link.send(heartbeat(agent))
    await link.next()
    const { alarm, liveness } = await objectOf(agent)
    expect(alarm).toBe(liveness.lastSeenAt! + OFFLINE_AFTER_MS)
    expect(alarm).toBeGreaterThan(early)
    link.close()
  })

  it('that changes nothing stores no liveness: kept on the socket, it still moves the alarm and shows as last seen', async () => {
    const agent = await seedAgent('5.0.0')
    const link = await connected(agent)
    link.send(heartbeat(agent))
    await link.next()
    await silence(agent, 60_000)
    const stored = (await objectOf(agent)).liveness
    await alarmNear(agent)
    const before = Date.now()
    link.send(heartbeat(agent))
    await link.next()
    const { alarm, liveness } = await objectOf(agent)
    expect(liveness).toEqual(stored)
    const live = await sessionOf(env, agent.agentId).liveness(agent)
    expect(live).toMatchObject({ status: 'online' })
    expect(live!.lastSeenAt).toBeGreaterThanOrEqual(before - 1_000)
    expect(alarm).toBe(live!.lastSeenAt + OFFLINE_AFTER_MS)
    link.close()
  })

  it('that comes late leaves the alarm to re-arm from the last ping instead of calling the agent offline', async () => {
    const agent = await seedAgent('5.0.0')
    const link = await connected(agent)
    link.send(heartbeat(agent))
    await link.next()
    link.send({ type: 'ping' })
    await link.next()
    await silence(agent, OFFLINE_AFTER_MS + 1_000)
    await runDurableObjectAlarm(sessionOf(env, agent.agentId))
    const { alarm, liveness, pings } = await objectOf(agent)
    expect(liveness).toMatchObject({ status: 'online', lastSeenAt: pings[0] })
    expect(alarm).toBe(pings[0]! + OFFLINE_AFTER_MS)
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'online' })
    expect(await notificationsOf(agent.agentId)).toEqual([])
    link.close()
  })
})

describe('offline from the socket', () => {
  it('a half-open socket (open, nothing more heard) is offline when the alarm armed 120 s after the last heartbeat runs', async () => {
    const agent = await seedAgent('5.0.0')
    const link = await connected(agent)
    link.send(heartbeat(agent))
    await link.next()
    const armed = await objectOf(agent)
    expectArmedFor(armed.alarm, armed.liveness.lastSeenAt!)
    await silence(agent, OFFLINE_AFTER_MS)
    await runDurableObjectAlarm(sessionOf(env, agent.agentId))
    expect((await objectOf(agent)).pings).toHaveLength(1) // the socket is still open
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'offline' })
    expect((await notificationsOf(agent.agentId)).map((n) => n.kind)).toEqual(['agent_offline'])
    link.close()
  })

  it('a closed socket keeps its last ping as the last sign of life and arms the alarm ≤ 120 s after it', async () => {
    const agent = await seedAgent('5.0.0')
    const link = await connected(agent)
    link.send(heartbeat(agent))
    await link.next()
    await silence(agent, 60_000)
    link.send({ type: 'ping' })
    await link.next()
    const [pinged] = (await objectOf(agent)).pings
    link.close()
    await expect.poll(async () => (await objectOf(agent)).liveness.lastSeenAt).toBe(pinged)
    expectArmedFor((await objectOf(agent)).alarm, pinged!)
    await silence(agent, OFFLINE_AFTER_MS)
    await runDurableObjectAlarm(sessionOf(env, agent.agentId))
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'offline' })
    expect((await notificationsOf(agent.agentId)).map((n) => n.kind)).toEqual(['agent_offline'])
  })

  it('a socket heartbeat brings an offline agent back, with a notification', async () => {
    const agent = await seedAgent('5.0.0')
    const link = await connected(agent)
    link.send(heartbeat(agent))
    await link.next()
    await silence(agent, OFFLINE_AFTER_MS)
    await runDurableObjectAlarm(sessionOf(env, agent.agentId))
    link.send({ type: 'ping' })
    await link.next()
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'offline' })
    link.send(heartbeat(agent))
    await link.next()
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'online' })
    expect((await notificationsOf(agent.agentId)).map((n) => n.kind)).toEqual([
      'agent_offline',
      'agent_online',
    ])
    link.close()
  })
})
