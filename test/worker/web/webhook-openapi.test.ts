import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { signWebhook } from '../../../src/flows/webhooks/deliver'
import { ADMIN, get, seedClient, seedUser, send } from './seed'

describe('webhook and OpenAPI', () => {
  it('signs webhook bodies with HMAC-SHA256 (RFC 4231 test case 2)', async () => {
    expect(await signWebhook('Jefe', 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    )
  })

  it('sets a webhook for owners only, with a secret shown once', async () => {
    const client = await seedClient()
    const viewer = await seedUser(client.id, 'viewer')
    const owner = await seedUser(client.id, 'owner')
    expect(
      (
        await send('PUT', `/api/client/${client.id}/webhook`, viewer.headers, {
          url: 'https://hooks.example.com/x',
        })
      ).status,
    ).toBe(403)
    expect(
      (await send('PUT', `/api/client/${client.id}/webhook`, owner.headers, { url: 'ftp://nope' })).status,
    ).toBe(400)
    const res = await send('PUT', `/api/client/${client.id}/webhook`, owner.headers, {
      url: 'https://hooks.example.com/x',
    })
    expect(await res.json()).toMatchObject({ success: true, secret: expect.stringMatching(/^whsec_/) })
    const row = (await (await get(`/api/client/${client.id}`, owner.headers)).json()) as Record<
      string,
      unknown
    >
    expect(JSON.stringify(row)).not.toContain('whsec_')
  })

  it('publishes an OpenAPI document covering the agent and people-facing APIs without auth', async () => {
    const res = await SELF.fetch('http://x/api/openapi.json')
    expect(res.status).toBe(200)
    const doc = (await res.json()) as {
      openapi: string
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }
        >
      >
    }
    expect(doc.openapi).toBe('3.1.0')
    expect(
      doc.paths['/api/agents/register']?.post?.requestBody?.content['application/json']?.schema.properties,
    ).toHaveProperty('logical_agent_id')
    expect(
      doc.paths['/api/client/agents/{agentId}/config']?.post?.requestBody?.content['application/json']?.schema
        .properties,
    ).toHaveProperty('autoSwitchEnabled')
    expect(doc.paths['/api/client/instances/{instanceId}/force-switch']).toBeDefined()
    expect(doc.paths['/api/admin/clients/create']).toBeDefined()
  })

  it('never lets a personal token of a disabled user in', async () => {
    const client = await seedClient()
    const owner = await seedUser(client.id, 'owner')
    const viewer = await seedUser(client.id, 'viewer')
    expect(
      (await send('DELETE', `/api/client/${client.id}/users/${viewer.userId}`, owner.headers)).status,
    ).toBe(200)
    expect((await get('/api/me', viewer.headers)).status).toBe(401)
    expect((await get('/api/me', ADMIN)).status).toBe(200)
  })
})
