/**
 * The usage benchmark's count of alarms (session/request-meter.ts): each alarm an object sets, by what
 * it is armed for, and each one that rings, by what it rang for, so that bench/results/fleet-usage.json
 * can say why a live agent's object still runs alarms. Time passing is the object's stored times moved
 * back (no waiting); alarms run explicitly.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { OFFLINE_AFTER_MS } from '../../../src/session/liveness'
import { readAlarmsSet, readDoRequests, resetDoRequests } from '../../../src/session/request-meter'
import { readLiveness, writeLiveness } from '../../../src/session/store'
import { sessionOf } from '../../../src/session/stub'
import { agentRow, connect, enqueued, post, seedAgent, type SeededAgent } from './seed'

const heartbeat = (agent: SeededAgent) => ({
  type: 'heartbeat',
  status: 'online',
  instance_id: agent.instanceId,
  instance_type: 't3.large',
  mode: 'spot',
  az: 'us-east-1b',
})

/** A connected 5.x agent whose object has heard one socket heartbeat (alarm armed), meter reset. */
async function heardAgent() {
  const agent = await seedAgent('5.0.0')
  const link = await connect(agent)
  expect(await link.next()).toMatchObject({ type: 'hello' })
  link.send(heartbeat(agent))
  expect(await link.next()).toMatchObject({ type: 'heartbeat_ok' })
  resetDoRequests()
  return { agent, link }
}

function inObject<T>(agent: SeededAgent, run: (state: DurableObjectState) => T | Promise<T>) {
  return runInDurableObject(sessionOf(env, agent.agentId), (_instance, state) => run(state))
}

/** The object's last sign of life moved `ms` into the past. */
function silence(agent: SeededAgent, ms: number) {
  return inObject(agent, (state) => {
    const liveness = readLiveness(state.storage.sql)
    writeLiveness(state.storage.sql, { ...liveness, lastSeenAt: liveness.lastSeenAt! - ms })
  })
}

/** Request kinds counted since the reset, with their counts only. */
function requestCounts(): Record<string, number> {
  return Object.fromEntries(Object.entries(readDoRequests()).map(([kind, { count }]) => [kind, count]))
}

beforeEach(() => resetDoRequests())

describe('the alarm meter', () => {
  it('counts every alarm an object sets, by what it is armed for, and none it leaves alone', async () => {
    const { agent, link } = await heardAgent()
    await inObject(agent, (state) => state.storage.deleteAlarm())
    link.send(heartbeat(agent))
    await link.next()
    const armed = await inObject(agent, (state) => state.storage.getAlarm())
    expect(armed).not.toBeNull()
    expect(readAlarmsSet()).toEqual({ offline: 1 })
    // A command that expires before the silence deadline arms it earlier, for the command.
    await enqueued(agent, { expiresInSeconds: 5, instanceId: 'i-00000000000000000' })
    const earlier = await inObject(agent, (state) => state.storage.getAlarm())
    expect(earlier).toBeLessThan(armed!)
    expect(readAlarmsSet()).toEqual({ offline: 1, command: 1 })
    // An HTTP heartbeat leaves the earlier alarm where it is: none set.
    const res = await post(agent, '/heartbeat', {
      ...heartbeat(agent),
      type: undefined,
      monitored_instances: [agent.instanceId],
    })
    expect(res.status).toBe(200)
    expect(await inObject(agent, (state) => state.storage.getAlarm())).toBe(earlier)
    expect(readAlarmsSet()).toEqual({ offline: 1, command: 1 })
    expect(requestCounts()).toEqual({ 'message heartbeat': 1 })
    link.close()
  })

  it('counts an alarm by what it rang for: nothing yet (early), a command, silence', async () => {
    const { agent, link } = await heardAgent()
    // Early: the agent pinged since, so the alarm only re-arms from the ping.
    link.send({ type: 'ping' })
    await link.next()
    await silence(agent, OFFLINE_AFTER_MS + 1_000)
    expect(await runDurableObjectAlarm(sessionOf(env, agent.agentId))).toBe(true)
    expect(requestCounts()).toEqual({ 'alarm early': 1 })
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'online' })
    // A command past its expiry.
    await enqueued(agent, { instanceId: 'i-00000000000000000' })
    await inObject(agent, (state) =>
      state.storage.sql.exec('UPDATE commands SET expires_at = ?', Date.now() - 1),
    )
    expect(await runDurableObjectAlarm(sessionOf(env, agent.agentId))).toBe(true)
    expect(requestCounts()).toEqual({ 'alarm early': 1, 'alarm command': 1 })
    link.close()
    // Silence: a half-open socket (nothing heard on it since its heartbeat) for 120 s.
    const { agent: silent, link: halfOpen } = await heardAgent()
    await silence(silent, OFFLINE_AFTER_MS + 1_000)
    expect(await runDurableObjectAlarm(sessionOf(env, silent.agentId))).toBe(true)
    expect(requestCounts()).toEqual({ 'alarm offline': 1 })
    expect(await agentRow(silent.agentId)).toMatchObject({ status: 'offline' })
    halfOpen.close()
  })
})
