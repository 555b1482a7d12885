/** The operator's client routes: create (token shown once, stored hashed) and rotation with a grace period or at once. */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { clientTokens } from '../../../src/db/schema'
import { sha256Hex } from '../../../src/ids'
import { ADMIN, call, db, newClient, tableCounts } from './helpers'
import { vector } from './vectors'

const registerWith = (token: string) =>
  call('POST', '/api/agents/register', { ...vector('registerV4'), client_token: token })

describe('POST /api/admin/clients/create', () => {
  it('creates an active client whose token is shown once and stored as a hash with a prefix', async () => {
    const res = await call(
      'POST',
      '/api/admin/clients/create',
      { name: 'Acme', email: 'ops@acme.test' },
      ADMIN,
    )
    expect(res.status).toBe(201)
    expect(res.json).toMatchObject({
      success: true,
      client: { id: expect.any(String), name: 'Acme', token: expect.any(String), status: 'active' },
    })
    const token: string = res.json.client.token
    const rows = await db().select().from(clientTokens).where(eq(clientTokens.clientId, res.json.client.id))
    expect(rows).toHaveLength(1)
    expect(rows[0]?.tokenHash).toBe(await sha256Hex(token))
    expect(token.startsWith(rows[0]!.prefix)).toBe(true)
    expect(rows[0]!.prefix.length).toBeLessThan(16)
    expect((await registerWith(token)).status).toBe(200)
  })

  it('needs the admin bearer (a client token is not one) and a name', async () => {
    const client = await newClient()
    const before = await tableCounts()
    expect((await call('POST', '/api/admin/clients/create', { name: 'x' })).status).toBe(401)
    expect((await call('POST', '/api/admin/clients/create', { name: 'x' }, client.auth)).status).toBe(401)
    const bad = await call('POST', '/api/admin/clients/create', { email: 'not-an-email' }, ADMIN)
    expect(bad.status).toBe(400)
    expect(bad.json.fields.map((f: { field: string }) => f.field).sort()).toEqual(['email', 'name'])
    expect(await tableCounts()).toEqual(before)
  })
})

describe('POST /api/admin/clients/:clientId/regenerate-token', () => {
  it('issues a new token; the old one keeps working for the grace period (24 h), then stops', async () => {
    const client = await newClient()
    const started = Date.now()
    const res = await call('POST', `/api/admin/clients/${client.id}/regenerate-token`, undefined, ADMIN)
    expect(res.status).toBe(200)
    const fresh: string = res.json.client.token
    expect(fresh).not.toBe(client.token)
    expect((await registerWith(fresh)).status).toBe(200)
    expect((await registerWith(client.token)).status).toBe(200)

    const [old] = await db()
      .select()
      .from(clientTokens)
      .where(eq(clientTokens.tokenHash, await sha256Hex(client.token)))
    expect(old!.expiresAt! - started).toBeGreaterThanOrEqual(24 * 3_600_000 - 5_000)
    expect(old!.expiresAt! - started).toBeLessThanOrEqual(24 * 3_600_000 + 5_000)
    expect(Date.parse(res.json.previous_token_expires_at)).toBe(old!.expiresAt)

    // The grace period ends (moved into the past instead of waiting a day).
    await db()
      .update(clientTokens)
      .set({ expiresAt: Date.now() - 1 })
      .where(eq(clientTokens.id, old!.id))
    expect((await registerWith(client.token)).status).toBe(401)
    expect((await registerWith(fresh)).status).toBe(200)
  })

  it('a second rotation does not extend the first token past its grace', async () => {
    const client = await newClient()
    await call('POST', `/api/admin/clients/${client.id}/regenerate-token`, undefined, ADMIN)
    const hash = await sha256Hex(client.token)
    await db()
      .update(clientTokens)
      .set({ expiresAt: Date.now() + 60_000 })
      .where(eq(clientTokens.tokenHash, hash))
    await call('POST', `/api/admin/clients/${client.id}/regenerate-token`, undefined, ADMIN)
    const [old] = await db().select().from(clientTokens).where(eq(clientTokens.tokenHash, hash))
    expect(old!.expiresAt! - Date.now()).toBeLessThanOrEqual(60_000)
  })

  it('revokes a leaked token at once with revokeNow: the old token gets 401 on its next request', async () => {
    const client = await newClient()
    expect((await registerWith(client.token)).status).toBe(200)
    const res = await call(
      'POST',
      `/api/admin/clients/${client.id}/regenerate-token`,
      { revokeNow: true },
      ADMIN,
    )
    expect(res.status).toBe(200)
    expect(Date.parse(res.json.previous_token_expires_at)).toBeLessThanOrEqual(Date.now())
    expect((await registerWith(client.token)).status).toBe(401)
    expect((await registerWith(res.json.client.token)).status).toBe(200)
  })

  it('answers 404 for an unknown client and writes nothing', async () => {
    const before = await tableCounts()
    const res = await call('POST', '/api/admin/clients/cli_unknown/regenerate-token', undefined, ADMIN)
    expect(res.status).toBe(404)
    expect(await tableCounts()).toEqual(before)
  })
})
