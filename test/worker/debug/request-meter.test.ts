import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { readDoRequests, resetDoRequests } from '../../../src/session/request-meter'
import { sessionOf } from '../../../src/session/stub'
import { seedAgent } from '../session/seed'

describe("the benchmark's Durable Object request meter", () => {
  it('counts each RPC call through sessionOf by method, with its time, when D1_METER is on', async () => {
    const agent = await seedAgent()
    const ref = { clientId: agent.clientId, agentId: agent.agentId }
    resetDoRequests()
    const session = sessionOf({ ...env, D1_METER: 'on' }, agent.agentId)
    const first = await session.liveness(ref)
    await session.liveness(ref)
    await session.pendingCommands({ ...ref, instanceId: agent.instanceId, agentVersion: agent.agentVersion })
    const counted = readDoRequests()
    expect(counted['rpc liveness']?.count).toBe(2)
    expect(counted['rpc pendingCommands']?.count).toBe(1)
    expect(counted['rpc liveness']!.ms).toBeGreaterThanOrEqual(0)
    // The metered stub answers what the plain one does.
    expect(first).toEqual(await sessionOf(env, agent.agentId).liveness(ref))
  })

  it('leaves stubs unwrapped and hides its route unless D1_METER is on', async () => {
    const agent = await seedAgent()
    resetDoRequests()
    await sessionOf(env, agent.agentId).liveness({ clientId: agent.clientId, agentId: agent.agentId })
    // Alarms and socket messages are counted inside objects whatever the var (a Map entry); RPC is not.
    expect(Object.keys(readDoRequests()).filter((kind) => kind.startsWith('rpc '))).toEqual([])
    const res = await SELF.fetch('http://x/__debug/do-requests', {
      headers: { Authorization: 'Bearer test-admin-token' },
    })
    expect(res.status).toBe(404)
  })

  it("times a handler's wall time, CPU included: local workerd's clock runs while code runs (deployed, it stands still)", async () => {
    const started = performance.now()
    let spin = 0
    for (let i = 0; i < 20_000_000; i++) spin += i % 7
    expect(spin).toBeGreaterThan(0)
    expect(performance.now()).toBeGreaterThan(started)
  })
})
