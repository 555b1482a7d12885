import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject, SELF } from 'cloudflare:test'
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { instances } from '../../../src/db/schema'
import { sessionOf } from '../../../src/session/stub'
import { OFFLINE_AFTER_MS } from '../../../src/session/liveness'
import { readLiveness, writeLiveness } from '../../../src/session/store'
import { agentRow, db, notificationsOf, post, seedAgent, type SeededAgent } from './seed'

// The heartbeat bodies of test/fixtures/legacy-agent-bodies/, as the installed agents send them.
const heartbeatV4 = {
  status: 'online',
  monitored_instances: ['i-0a1b2c3d4e5f60718'],
  instance_id: 'i-0a1b2c3d4e5f60718',
  instance_type: 't3.medium',
  mode: 'spot',
  az: 'us-east-1a',
}
const heartbeatImdsFailed = { ...heartbeatV4, instance_type: null, mode: 'ondemand', az: null }
const heartbeatV3 = { status: 'disabled', monitored_instances: ['i-0a1b2c3d4e5f60719'] }
const heartbeatOffline = { status: 'offline', monitored_instances: [] }

/** Moves the agent's last sign of life back in time (instead of waiting). */
async function silence(agent: SeededAgent, ms: number) {
  await runInDurableObject(sessionOf(env, agent.agentId), (_instance, state) => {
    const liveness = readLiveness(state.storage.sql)
    writeLiveness(state.storage.sql, { ...liveness, lastSeenAt: (liveness.lastSeenAt ?? Date.now()) - ms })
  })
}

function instanceOf(agent: SeededAgent) {
  return db()
    .select()
    .from(instances)
    .where(and(eq(instances.clientId, agent.clientId), eq(instances.instanceId, agent.instanceId)))
    .then(([row]) => row)
}

describe('POST heartbeat', () => {
  it('accepts every legacy body', async () => {
    const agent = await seedAgent()
    for (const body of [heartbeatV4, heartbeatImdsFailed, heartbeatV3, heartbeatOffline]) {
      const res = await post(agent, '/heartbeat', {
        ...body,
        instance_id: 'instance_id' in body ? agent.instanceId : undefined,
      })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ success: true })
    }
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'offline' })
  })

  it('writes D1 only when something changes', async () => {
    const agent = await seedAgent()
    await post(agent, '/heartbeat', { ...heartbeatV4, instance_id: agent.instanceId })
    const first = await agentRow(agent.agentId)
    expect(first).toMatchObject({ status: 'online' })
    await post(agent, '/heartbeat', { ...heartbeatV4, instance_id: agent.instanceId })
    expect(await agentRow(agent.agentId)).toEqual(first)
    await post(agent, '/heartbeat', { ...heartbeatV4, instance_id: agent.instanceId, status: 'disabled' })
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'disabled' })
  })

  it('stores changed instance facts, and null keeps the old value', async () => {
    const agent = await seedAgent()
    await post(agent, '/heartbeat', {
      ...heartbeatV4,
      instance_id: agent.instanceId,
      mode: 'on-demand',
      az: 'us-east-1b',
    })
    expect(await instanceOf(agent)).toMatchObject({
      mode: 'ondemand',
      az: 'us-east-1b',
      instanceType: 't3.medium',
    })
    await post(agent, '/heartbeat', { ...heartbeatImdsFailed, instance_id: agent.instanceId })
    expect(await instanceOf(agent)).toMatchObject({
      mode: 'ondemand',
      az: 'us-east-1b',
      instanceType: 't3.medium',
    })
  })

  it('checks the owner in D1 while the object does not know it', async () => {
    const agent = await seedAgent('4.0.0', false)
    const stranger = await seedAgent('4.0.0', false)
    expect((await post({ ...stranger, agentId: agent.agentId }, '/heartbeat', heartbeatV4)).status).toBe(404)
    expect((await post({ ...agent, agentId: 'agt_unknown' }, '/heartbeat', heartbeatV4)).status).toBe(404)
    expect((await post(agent, '/heartbeat', heartbeatV4)).status).toBe(200)
    expect((await post({ ...stranger, agentId: agent.agentId }, '/heartbeat', heartbeatV4)).status).toBe(404)
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'online' })
  })

  it('answers 400 for a bad body and 404 for another client’s agent, changing nothing', async () => {
    const agent = await seedAgent()
    const stranger = await seedAgent()
    const before = await agentRow(agent.agentId)
    expect((await post(agent, '/heartbeat', { status: 'sleeping', monitored_instances: [] })).status).toBe(
      400,
    )
    expect((await post({ ...stranger, agentId: agent.agentId }, '/heartbeat', heartbeatV4)).status).toBe(404)
    expect(await agentRow(agent.agentId)).toEqual(before)
  })
})

describe('offline detection', () => {
  it('marks an agent silent for 120 s offline with a notification, and notifies its return', async () => {
    const agent = await seedAgent()
    await post(agent, '/heartbeat', { ...heartbeatV4, instance_id: agent.instanceId })
    const session = sessionOf(env, agent.agentId)
    await runDurableObjectAlarm(session)
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'online' })
    const rearmed = await runInDurableObject(session, async (_instance, state) => ({
      alarm: await state.storage.getAlarm(),
      lastSeenAt: readLiveness(state.storage.sql).lastSeenAt,
    }))
    expect(rearmed.alarm).toBe(rearmed.lastSeenAt! + OFFLINE_AFTER_MS)

    await silence(agent, OFFLINE_AFTER_MS)
    await runDurableObjectAlarm(session)
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'offline' })
    await runDurableObjectAlarm(session)
    expect((await notificationsOf(agent.agentId)).map((n) => n.kind)).toEqual(['agent_offline'])

    await post(agent, '/heartbeat', { ...heartbeatV4, instance_id: agent.instanceId })
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'online' })
    expect((await notificationsOf(agent.agentId)).map((n) => n.kind)).toEqual([
      'agent_offline',
      'agent_online',
    ])
  })
})

describe('an unchanged heartbeat', () => {
  /** What the object stored (last sign of life, alarm) and what pages are shown. */
  async function storedAndShown(agent: SeededAgent) {
    const session = sessionOf(env, agent.agentId)
    const stored = await runInDurableObject(session, async (_instance, state) => ({
      lastSeenAt: readLiveness(state.storage.sql).lastSeenAt!,
      alarm: await state.storage.getAlarm(),
    }))
    const shown = await session.liveness({ clientId: agent.clientId, agentId: agent.agentId })
    return { ...stored, shown }
  }

  /** As if `ms` passed since the stored heartbeat: its time and the alarm set from it move back. */
  async function age(agent: SeededAgent, ms: number) {
    await runInDurableObject(sessionOf(env, agent.agentId), async (_instance, state) => {
      const liveness = readLiveness(state.storage.sql)
      writeLiveness(state.storage.sql, { ...liveness, lastSeenAt: liveness.lastSeenAt! - ms })
      await state.storage.setAlarm((await state.storage.getAlarm())! - ms)
    })
  }

  it('is kept in memory and stored only with the alarm it moves; a restarted object still detects the silence in time', async () => {
    const agent = await seedAgent()
    const beat = () => post(agent, '/heartbeat', { ...heartbeatV4, instance_id: agent.instanceId })
    await beat()
    // 30 s later: the alarm rings in 90 s, after the next heartbeat is due; this one need not move it.
    await age(agent, 30_000)
    const before = await storedAndShown(agent)
    const sentAt = Date.now()
    expect((await beat()).status).toBe(200)
    const kept = await storedAndShown(agent)
    expect(kept).toMatchObject({ lastSeenAt: before.lastSeenAt, alarm: before.alarm })
    expect(kept.shown).toMatchObject({ status: 'online' })
    expect(kept.shown!.lastSeenAt).toBeGreaterThanOrEqual(sentAt)

    // 60 s later the alarm rings within 30 s: this heartbeat moves it, and stores its time with it.
    await age(agent, 60_000)
    const movedAt = Date.now()
    expect((await beat()).status).toBe(200)
    const moved = await storedAndShown(agent)
    expect(moved.lastSeenAt).toBeGreaterThanOrEqual(movedAt)
    expect(moved.alarm).toBe(moved.lastSeenAt + OFFLINE_AFTER_MS)

    // A heartbeat kept in memory, then the object restarts (a deploy) and the agent falls silent: the
    // alarm set from the stored time still rings, by 120 s after it, and records the agent offline.
    await beat()
    await abortAllDurableObjects()
    const restarted = await storedAndShown(agent)
    expect(restarted).toMatchObject({ lastSeenAt: moved.lastSeenAt, alarm: moved.alarm })
    expect(restarted.alarm!).toBeLessThanOrEqual(Date.now() + OFFLINE_AFTER_MS)
    await silence(agent, OFFLINE_AFTER_MS)
    await runDurableObjectAlarm(sessionOf(env, agent.agentId))
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'offline' })
    expect((await notificationsOf(agent.agentId)).map((n) => n.kind)).toEqual(['agent_offline'])
  })
})

describe('liveness in D1', () => {
  it('is online at once, notified once, when the agent registers again after its own offline heartbeat', async () => {
    const agent = await seedAgent('5.0.0')
    await post(agent, '/heartbeat', { ...heartbeatV4, instance_id: agent.instanceId })
    await post(agent, '/heartbeat', heartbeatOffline)
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'offline' })

    const restart = await SELF.fetch('http://x/api/agents/register', {
      method: 'POST',
      headers: { ...agent.headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        logical_agent_id: `logical-${agent.agentId}`,
        instance_id: agent.instanceId,
        instance_type: 't3.medium',
        region: 'us-east-1',
        az: 'us-east-1a',
        mode: 'spot',
        agent_version: '5.0.0',
      }),
    })
    expect(restart.status).toBe(200)
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'online' })
    await post(agent, '/heartbeat', { ...heartbeatV4, instance_id: agent.instanceId })
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'online' })
    expect((await notificationsOf(agent.agentId)).map((n) => n.kind)).toEqual([
      'agent_offline',
      'agent_online',
    ])
  })

  it('retries a failed offline write from the alarm until D1 has it, notifying once', async () => {
    const agent = await seedAgent('5.0.0')
    const session = sessionOf(env, agent.agentId)
    await post(agent, '/heartbeat', { ...heartbeatV4, instance_id: agent.instanceId })
    // D1 refuses the offline write of this agent (and the batch with its notification) until dropped.
    const trigger = `fail_offline_${agent.agentId.replace(/\W/g, '_')}`
    await env.DB.prepare(
      `CREATE TRIGGER ${trigger} BEFORE UPDATE OF status ON agents
       WHEN NEW.id = '${agent.agentId}' AND NEW.status = 'offline'
       BEGIN SELECT RAISE(ABORT, 'injected D1 failure'); END`,
    ).run()
    try {
      await silence(agent, OFFLINE_AFTER_MS)
      await runDurableObjectAlarm(session)
      expect(await agentRow(agent.agentId)).toMatchObject({ status: 'online' })
      expect(await notificationsOf(agent.agentId)).toEqual([])
      expect(await runDurableObjectAlarm(session)).toBe(true)
      expect(await agentRow(agent.agentId)).toMatchObject({ status: 'online' })
    } finally {
      await env.DB.prepare(`DROP TRIGGER ${trigger}`).run()
    }
    expect(await runDurableObjectAlarm(session)).toBe(true)
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'offline' })
    expect((await notificationsOf(agent.agentId)).map((n) => n.kind)).toEqual(['agent_offline'])
    await runDurableObjectAlarm(session)
    expect((await notificationsOf(agent.agentId)).map((n) => n.kind)).toEqual(['agent_offline'])
  })
})

describe('a deleted agent', () => {
  it('is answered like an unknown one, its silence is no news, until it is reinstated', async () => {
    const agent = await seedAgent('5.0.0')
    const session = sessionOf(env, agent.agentId)
    const uninstall = await session.enqueue({
      clientId: agent.clientId,
      agentId: agent.agentId,
      agentVersion: '5.0.0',
      instanceId: agent.instanceId,
      commandType: 'uninstall',
      priority: 75,
      source: 'manual',
    })
    const pendingSwitch = await session.enqueue({
      clientId: agent.clientId,
      agentId: agent.agentId,
      agentVersion: '5.0.0',
      instanceId: agent.instanceId,
      commandType: 'switch',
      targetMode: 'ondemand',
      priority: 75,
      source: 'manual',
    })
    await session.retire({ clientId: agent.clientId, agentId: agent.agentId })
    expect((await post(agent, '/heartbeat', heartbeatV4)).status).toBe(404)
    if (!uninstall.ok || !pendingSwitch.ok) throw new Error('not queued')
    expect(
      await session.ack({
        clientId: agent.clientId,
        agentId: agent.agentId,
        commandId: uninstall.commandId,
        instanceId: agent.instanceId,
      }),
    ).toMatchObject({ ok: true })
    expect(
      await session.ack({
        clientId: agent.clientId,
        agentId: agent.agentId,
        commandId: pendingSwitch.commandId,
        instanceId: agent.instanceId,
      }),
    ).toMatchObject({ ok: false })
    await silence(agent, OFFLINE_AFTER_MS)
    await runDurableObjectAlarm(session)
    expect(await notificationsOf(agent.agentId)).toEqual([])
    await session.reinstate({ clientId: agent.clientId, agentId: agent.agentId })
    expect((await post(agent, '/heartbeat', heartbeatV4)).status).toBe(200)
  })
})
