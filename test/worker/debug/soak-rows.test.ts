import { createExecutionContext, env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../../src/app'
import { ADMIN, newAgent } from '../agent-api/helpers'

const app = buildApp()
const soakEnv = { ...env, SOAK_READS: 'on' }
const rows = (clientId: string, headers: Record<string, string>) =>
  app.fetch(
    new Request(`http://x/__debug/soak-rows/${clientId}`, { headers }),
    soakEnv,
    createExecutionContext(),
  )

describe("the soak's D1 rows route", () => {
  it('does not exist unless SOAK_READS is on', async () => {
    const { client } = await newAgent()
    const res = await SELF.fetch(`http://x/__debug/soak-rows/${client.id}`, { headers: ADMIN })
    expect(res.status).toBe(404)
  })

  it("answers the operator one client's rows of every table the checker reads, and nothing of another client", async () => {
    const mine = await newAgent(undefined, { public_ip: '3.200.9.9' })
    await newAgent()

    expect((await rows(mine.client.id, {})).status).toBe(401)
    expect((await rows(mine.client.id, mine.client.auth)).status).toBe(401)
    const res = await rows(mine.client.id, ADMIN)
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, Array<Record<string, unknown>>>
    expect(Object.keys(body).sort()).toEqual(
      [
        'agents',
        'commands',
        'events',
        'instances',
        'notifications',
        'onDemandPrices',
        'replicas',
        'segments',
        'spotPrices',
        'switches',
      ].sort(),
    )
    expect(body.agents).toEqual([
      expect.objectContaining({ id: mine.agentId, instanceId: mine.instanceId, terminateWaitSeconds: 300 }),
    ])
    expect(body.instances).toEqual([
      expect.objectContaining({
        agentId: mine.agentId,
        instanceId: mine.instanceId,
        status: 'active',
        publicIp: '3.200.9.9',
      }),
    ])
  })
})
