import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { Command } from '../../../src/protocol'
import { sessionOf } from '../../../src/session/stub'
import { LEASE_MS } from '../../../src/session/queue'
import { readOwner } from '../../../src/session/store'
import { api, enqueued, enqueueSwitch, historyOf, post, seedAgent } from './seed'

async function poll(agent: Awaited<ReturnType<typeof seedAgent>>, query = ''): Promise<Command[]> {
  const res = await api(agent, `/pending-commands${query}`)
  expect(res.status).toBe(200)
  return res.json()
}

describe('GET pending-commands', () => {
  it('answers a bare array, highest priority first, then oldest', async () => {
    const agent = await seedAgent('5.0.0')
    const low = await enqueued(agent, { priority: 10 })
    const urgentOld = await enqueued(agent, { priority: 100, dedupeKey: 'a' })
    const urgentNew = await enqueued(agent, { priority: 100, dedupeKey: 'b' })
    const manual = await enqueued(agent, { priority: 75, dedupeKey: 'c' })
    const pending = await poll(agent, `?instance_id=${agent.instanceId}`)
    expect(pending.map((c) => c.id)).toEqual([urgentOld, urgentNew, manual, low])
    expect(pending[0]).toMatchObject({
      command_type: 'switch',
      instance_id: agent.instanceId,
      target_mode: 'ondemand',
      target_pool_id: null,
      priority: 100,
      terminate_wait_seconds: 300,
    })
    expect((await historyOf(low))?.status).toBe('delivered')
  })

  it('hands a legacy command to one of two polling processes only', async () => {
    const agent = await seedAgent('4.0.0')
    const id = await enqueued(agent)
    const [first, second] = await Promise.all([poll(agent), poll(agent)])
    expect([...first!, ...second!].map((c) => c.id)).toEqual([id])
    expect(await poll(agent)).toEqual([])
    expect(await historyOf(id)).toMatchObject({ status: 'delivered' })
  })

  it('does not hand a new agent the commands of another instance', async () => {
    const agent = await seedAgent('5.1.0')
    await enqueued(agent)
    expect(await poll(agent, '?instance_id=i-someoneelse')).toEqual([])
    expect(await poll(agent, `?instance_id=${agent.instanceId}`)).toHaveLength(1)
  })

  it('never hands out an expired command and records it as expired', async () => {
    const agent = await seedAgent('4.0.0')
    const id = await enqueued(agent, { expiresInSeconds: 0 })
    // The alarm is due at once: it may have run already; running it again is harmless.
    await runDurableObjectAlarm(sessionOf(env, agent.agentId))
    await expect.poll(async () => (await historyOf(id))?.status).toBe('expired')
    expect(await poll(agent)).toEqual([])
    expect(await historyOf(id)).toMatchObject({ status: 'expired', deliveredAt: null })
  })

  it('leaves the alarm as it is when a poll changes nothing, and re-arms it after one that hands a command', async () => {
    const agent = await seedAgent('4.0.0')
    const heartbeat = {
      status: 'online',
      monitored_instances: [agent.instanceId],
      instance_id: agent.instanceId,
    }
    expect((await post(agent, '/heartbeat', heartbeat)).status).toBe(200)
    const session = sessionOf(env, agent.agentId)
    const alarm = () => runInDurableObject(session, (_instance, state) => state.storage.getAlarm())
    const setAlarm = (at: number) =>
      runInDurableObject(session, (_instance, state) => state.storage.setAlarm(at))
    // An alarm later than anything due: a poll that rescheduled would move it back.
    const later = Date.now() + 3_600_000
    await setAlarm(later)
    const ref = { clientId: agent.clientId, agentId: agent.agentId, agentVersion: '4.0.0', instanceId: null }
    expect(await session.pendingCommands(ref)).toEqual([])
    expect(await alarm()).toBe(later)

    const id = await enqueued(agent)
    await setAlarm(later)
    expect((await poll(agent)).map((c) => c.id)).toEqual([id])
    expect(await alarm()).toBeLessThan(later)
  })

  it("answers an idle poll from D1 without calling the agent's object, and calls it once a command is open", async () => {
    // An object that never heard of its agent learns its owner from the first call it gets.
    const agent = await seedAgent('4.0.0', false)
    const owner = () =>
      runInDurableObject(sessionOf(env, agent.agentId), (_instance, state) => readOwner(state.storage.sql))
    expect(await poll(agent)).toEqual([])
    expect(await owner()).toBeNull()

    // Registered (the object learns the agent's instance, which a legacy poll's lease is bound to).
    const { clientId, agentId, instanceId, agentVersion } = agent
    await sessionOf(env, agentId).registered({ clientId, agentId, instanceId, agentVersion })
    const id = await enqueued(agent)
    expect((await poll(agent)).map((c) => c.id)).toEqual([id])
    expect(await historyOf(id)).toMatchObject({ status: 'delivered' })
  })

  it('answers another client’s agent like an unknown one', async () => {
    const agent = await seedAgent()
    const stranger = await seedAgent()
    const res = await api({ ...stranger, agentId: agent.agentId }, '/pending-commands')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ code: 'NOT_FOUND' })
  })
})

describe('enqueue', () => {
  it('refuses a second pending command with the same dedupe key', async () => {
    const agent = await seedAgent()
    const first = await enqueued(agent, { dedupeKey: 'switch' })
    expect(await enqueueSwitch(agent, { dedupeKey: 'switch' })).toEqual({
      ok: false,
      reason: 'duplicate',
      commandId: first,
    })
  })

  it('refuses a command type the agent version does not know', async () => {
    const agent = await seedAgent('3.2.0')
    const result = await enqueueSwitch(agent, { commandType: 'cleanup' })
    expect(result).toMatchObject({ ok: false, reason: 'unsupported' })
  })
})

describe('POST commands/:commandId/executed', () => {
  it('marks completed once; a repeat is 200 and changes nothing', async () => {
    const agent = await seedAgent()
    const id = await enqueued(agent)
    await poll(agent)
    const res = await post(agent, `/commands/${id}/executed`, { success: true, message: 'Switch completed' })
    expect(res.status).toBe(200)
    const before = await historyOf(id)
    expect(before).toMatchObject({ status: 'completed', message: 'Switch completed' })
    const again = await post(agent, `/commands/${id}/executed`, { success: false, message: 'late' })
    expect(again.status).toBe(200)
    expect(await historyOf(id)).toEqual(before)
  })

  it('marks failed without success', async () => {
    const agent = await seedAgent()
    const id = await enqueued(agent)
    await post(agent, `/commands/${id}/executed`, { success: false, message: 'no capacity' })
    expect(await historyOf(id)).toMatchObject({ status: 'failed', message: 'no capacity' })
  })

  it('answers 404 for a command the agent does not have', async () => {
    const agent = await seedAgent()
    const other = await seedAgent()
    const theirs = await enqueued(other)
    expect((await post(agent, `/commands/${theirs}/executed`, { success: true })).status).toBe(404)
    expect((await post(agent, '/commands/cmd_nope/executed', { success: true })).status).toBe(404)
    expect(await historyOf(theirs)).toMatchObject({ status: 'queued' })
  })

  it('answers 400 for a body without success and changes nothing', async () => {
    const agent = await seedAgent()
    const id = await enqueued(agent)
    expect((await post(agent, `/commands/${id}/executed`, { message: 'x' })).status).toBe(400)
    expect(await historyOf(id)).toMatchObject({ status: 'queued' })
  })
})

describe('POST mark-command-executed (3.2.0)', () => {
  it('means success', async () => {
    const agent = await seedAgent('3.2.0')
    const id = await enqueued(agent)
    expect((await poll(agent)).map((c) => c.id)).toEqual([id])
    const res = await post(agent, '/mark-command-executed', { command_id: id })
    expect(res.status).toBe(200)
    expect(await historyOf(id)).toMatchObject({ status: 'completed' })
    expect((await post(agent, '/mark-command-executed', { command_id: id })).status).toBe(200)
  })
})

describe('a legacy switch', () => {
  it('is complete when the agent registers from the new instance, without executed', async () => {
    const agent = await seedAgent('4.0.0')
    const id = await enqueued(agent)
    await poll(agent)
    const session = sessionOf(env, agent.agentId)
    await session.registered({
      clientId: agent.clientId,
      agentId: agent.agentId,
      instanceId: agent.instanceId,
      agentVersion: '4.0.0',
    })
    expect(await historyOf(id)).toMatchObject({ status: 'delivered' })
    await session.registered({
      clientId: agent.clientId,
      agentId: agent.agentId,
      instanceId: 'i-0new',
      agentVersion: '4.0.0',
    })
    expect(await historyOf(id)).toMatchObject({ status: 'completed' })
  })
})

describe('POST commands/:commandId/ack', () => {
  it('lets one instance claim a command; the other is refused', async () => {
    const agent = await seedAgent('5.0.0')
    const id = await enqueued(agent, { instanceId: null })
    const a = await post(agent, `/commands/${id}/ack`, { instance_id: 'i-a' })
    const b = await post(agent, `/commands/${id}/ack`, { instance_id: 'i-b' })
    expect(a.status).toBe(200)
    expect(b.status).toBe(409)
    expect((await post(agent, `/commands/${id}/ack`, { instance_id: 'i-a' })).status).toBe(200)
    expect((await post(agent, `/commands/${id}/running`, { instance_id: 'i-a' })).status).toBe(200)
    expect(await historyOf(id)).toMatchObject({ status: 'running' })
  })
})

describe('POST commands/:commandId/running with a step', () => {
  it('renews the lease of a long switch and shows the step in the history', async () => {
    const agent = await seedAgent('5.0.0')
    const id = await enqueued(agent)
    const session = sessionOf(env, agent.agentId)
    const leaseOf = () =>
      runInDurableObject(
        session,
        (_i, state) =>
          state.storage.sql.exec('SELECT lease_until FROM commands WHERE id = ?', id).one()
            .lease_until as number,
      )
    expect((await post(agent, `/commands/${id}/ack`, { instance_id: agent.instanceId })).status).toBe(200)
    expect((await post(agent, `/commands/${id}/running`, { instance_id: agent.instanceId })).status).toBe(200)

    // An hour later the AMI is ready: the lease would lapse in a second.
    await runInDurableObject(session, (_i, state) => {
      state.storage.sql.exec('UPDATE commands SET lease_until = ? WHERE id = ?', Date.now() + 1000, id)
    })
    const before = Date.now()
    const step = await post(agent, `/commands/${id}/running`, {
      instance_id: agent.instanceId,
      step: 'newInstanceId=i-0123456789abcdef0',
    })
    expect(step.status).toBe(200)
    expect(await leaseOf()).toBeGreaterThanOrEqual(before + LEASE_MS.switch)
    await runDurableObjectAlarm(session)
    expect(await historyOf(id)).toMatchObject({
      status: 'running',
      message: 'newInstanceId=i-0123456789abcdef0',
    })

    expect((await post(agent, `/commands/${id}/running`, { instance_id: 'i-other', step: 'x' })).status).toBe(
      409,
    )
    expect(
      (await post(agent, `/commands/${id}/running`, { instance_id: agent.instanceId, step: 7 })).status,
    ).toBe(400)
  })
})
