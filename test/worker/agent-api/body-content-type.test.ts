/**
 * Installed agents may send their JSON without a JSON Content-Type: the body is read and validated all
 * the same (hono's validator alone would skip it, @hono/zod-openapi would answer 415).
 */
import { SELF } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents } from '../../../src/db/schema'
import { db, newAgent } from './helpers'

async function post(path: string, body: string, headers: Record<string, string>) {
  const res = await SELF.fetch(`http://spotguard.test${path}`, { method: 'POST', headers, body })
  return { status: res.status, json: (await res.json()) as Record<string, any> }
}

describe('a body without a JSON Content-Type', () => {
  for (const contentType of [null, 'text/plain', 'application/x-www-form-urlencoded']) {
    it(`is read as JSON (${contentType ?? 'no Content-Type'}): the agent registers with the token it carries`, async () => {
      const { client } = await newAgent()
      const instanceId = `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
      const body = JSON.stringify({
        client_token: client.token,
        instance_id: instanceId,
        instance_type: 'm5.xlarge',
        region: 'us-east-1',
        az: 'us-east-1b',
        mode: 'spot',
        agent_version: '4.0.0',
      })
      const res = await post('/api/agents/register', body, contentType ? { 'Content-Type': contentType } : {})
      expect(res.status).toBe(200)
      const [row] = await db().select().from(agents).where(eq(agents.id, res.json.agent_id))
      expect(row).toMatchObject({ clientId: client.id, instanceId, agentVersion: '4.0.0' })
    })
  }

  it('is validated as JSON: a wrong field is VALIDATION naming it, malformed JSON is BAD_REQUEST', async () => {
    const agent = await newAgent()
    const path = `/api/agents/${agent.agentId}/heartbeat`
    const wrong = await post(path, JSON.stringify({ status: 'sleeping' }), agent.client.auth)
    expect(wrong.status).toBe(400)
    expect(wrong.json).toMatchObject({ code: 'VALIDATION', fields: [{ field: 'status' }] })
    expect(wrong.json.request_id).toEqual(expect.any(String))
    const malformed = await post(path, '{"status":', { ...agent.client.auth, 'Content-Type': 'text/plain' })
    expect(malformed.status).toBe(400)
    expect(malformed.json).toMatchObject({ code: 'BAD_REQUEST' })
  })

  it('is {} when empty, validated as such', async () => {
    const agent = await newAgent()
    const res = await post(`/api/agents/${agent.agentId}/heartbeat`, '', agent.client.auth)
    expect(res.status).toBe(400)
    expect(res.json).toMatchObject({ code: 'VALIDATION', fields: [{ field: 'status' }] })
  })
})
