/** Every agent API answer says the control plane's time: the agent checks a command's expires_at against it. */
import { describe, expect, it } from 'vitest'
import { SERVER_TIME_HEADER } from '../../../src/protocol'
import { call, newAgent } from './helpers'

describe('server time', () => {
  it("answers, errors included, carry the control plane's time in X-Server-Time", async () => {
    const agent = await newAgent()
    const before = Date.now()
    const pending = await call(
      'GET',
      `/api/agents/${agent.agentId}/pending-commands?instance_id=${agent.instanceId}`,
      undefined,
      agent.client.auth,
    )
    const refused = await call('GET', `/api/agents/${agent.agentId}/config`, undefined, {
      Authorization: 'Bearer not-a-token',
    })
    const after = Date.now()
    expect(pending.status).toBe(200)
    expect(Array.isArray(pending.json)).toBe(true) // installed agents read a bare array
    expect(refused.status).toBe(401)
    for (const answer of [pending, refused]) {
      const at = Date.parse(answer.headers.get(SERVER_TIME_HEADER) ?? '')
      expect(at).toBeGreaterThanOrEqual(before - 1_000)
      expect(at).toBeLessThanOrEqual(after + 1_000)
    }
  })
})
