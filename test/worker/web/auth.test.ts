import { SELF } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { auditLog, sessions } from '../../../src/db/schema'
import { createAdmin, inviteUser } from '../../../src/auth/accounts'
import { hashPassword, PBKDF2_ITERATIONS, verifyPassword } from '../../../src/auth/password'
import { LOGIN_MAX_PER_IP_AND_EMAIL } from '../../../src/auth/rate-limit'
import { db, seedClient, seedUser, send } from './seed'
import { cookiesOf, postLogin } from './login'

const email = () => `u${crypto.randomUUID().slice(0, 8)}@example.com`

describe('sign-in and sessions', () => {
  it('hashes passwords with PBKDF2-SHA256, 100,000 iterations and a per-user salt', async () => {
    expect(PBKDF2_ITERATIONS).toBe(100_000)
    const a = await hashPassword('same password here')
    const b = await hashPassword('same password here')
    expect(a.salt).not.toBe(b.salt)
    expect(a.hash).not.toBe(b.hash)
    expect(await verifyPassword('same password here', a)).toBe(true)
    expect(await verifyPassword('other password', a)).toBe(false)
  })

  it('redirects pages to /login and answers the API with 401 JSON', async () => {
    const page = await SELF.fetch('http://x/admin/clients', { redirect: 'manual' })
    expect(page.status).toBe(302)
    expect(page.headers.get('Location')).toBe('/login?next=%2Fadmin%2Fclients')
    const api = await SELF.fetch('http://x/api/me')
    expect(api.status).toBe(401)
    expect(api.headers.get('Content-Type')).toContain('application/json')
  })

  it('refuses a login form without its CSRF token', async () => {
    const user = email()
    await createAdmin(db(), user, 'a long admin password', Date.now())
    const res = await postLogin(user, 'a long admin password', {
      csrf: 'forged',
      cookie: 'sg_form_csrf=other',
    })
    expect(res.status).toBe(403)
  })

  it('opens an HttpOnly, Secure, SameSite session and requires the CSRF header for changes', async () => {
    const user = email()
    await createAdmin(db(), user, 'a long admin password', Date.now())
    const res = await postLogin(user, 'a long admin password')
    expect(res.status).toBe(303)
    expect(res.headers.get('Location')).toBe('/admin')
    const setCookie = res.headers.getAll('Set-Cookie').find((c) => c.startsWith('sg_session='))!
    expect(setCookie).toMatch(/HttpOnly/i)
    expect(setCookie).toMatch(/Secure/i)
    expect(setCookie).toMatch(/SameSite=Strict/i)
    const cookie = `sg_session=${cookiesOf(res).sg_session}`
    const me = await SELF.fetch('http://x/api/me', { headers: { Cookie: cookie } })
    expect(await me.json()).toMatchObject({ email: user, role: 'admin' })
    const page = await (await SELF.fetch('http://x/admin', { headers: { Cookie: cookie } })).text()
    const csrf = page.match(/name="csrf" content="([^"]+)"/)![1]!
    const noHeader = await SELF.fetch('http://x/api/me/tokens', {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'application/json' },
      body: '{"name":"ci"}',
    })
    expect(noHeader.status).toBe(403)
    const withHeader = await SELF.fetch('http://x/api/me/tokens', {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: '{"name":"ci"}',
    })
    expect(withHeader.status).toBe(201)
    const { token } = (await withHeader.json()) as { token: string }
    expect(
      (await SELF.fetch('http://x/api/admin/stats', { headers: { Authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(200)
    // Logout revokes the session row.
    const out = await SELF.fetch('http://x/logout', {
      method: 'POST',
      redirect: 'manual',
      headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${encodeURIComponent(csrf)}`,
    })
    expect(out.status).toBe(303)
    expect((await SELF.fetch('http://x/api/me', { headers: { Cookie: cookie } })).status).toBe(401)
    const rows = await db().select().from(sessions)
    expect(rows.some((s) => s.revokedAt !== null)).toBe(true)
  })

  it('rate-limits failed logins per address and e-mail and audits each failure', async () => {
    const user = email()
    await createAdmin(db(), user, 'a long admin password', Date.now())
    for (let i = 0; i < LOGIN_MAX_PER_IP_AND_EMAIL; i++)
      expect((await postLogin(user, 'wrong password!', undefined, '10.9.9.9')).status).toBe(401)
    expect((await postLogin(user, 'a long admin password', undefined, '10.9.9.9')).status).toBe(429)
    const failures = await db().select().from(auditLog).where(eq(auditLog.targetId, user))
    expect(failures.filter((f) => f.action === 'auth.login_failed')).toHaveLength(LOGIN_MAX_PER_IP_AND_EMAIL)
  })

  it('lets an invited user set a password once and sign in to their client', async () => {
    const client = await seedClient()
    const user = email()
    const { inviteToken } = await inviteUser(
      db(),
      client.id,
      { email: user, role: 'viewer' },
      null,
      Date.now(),
    )
    expect((await postLogin(user, 'anything at all')).status).toBe(401)
    const form = await SELF.fetch(`http://x/invite/${inviteToken}`)
    const csrf = (await form.text()).match(/name="_csrf" value="([^"]+)"/)![1]!
    const set = await SELF.fetch(`http://x/invite/${inviteToken}`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Cookie: `sg_form_csrf=${cookiesOf(form).sg_form_csrf}`,
      },
      body: new URLSearchParams({ password: 'my new long password', _csrf: csrf }),
    })
    expect(set.status).toBe(303)
    expect((await SELF.fetch(`http://x/invite/${inviteToken}`)).status).toBe(404)
    const res = await postLogin(user, 'my new long password')
    expect(res.headers.get('Location')).toBe(`/c/${client.id}`)
  })

  it('lets an owner invite users of their client only, and never a viewer', async () => {
    const client = await seedClient()
    const other = await seedClient()
    const owner = await seedUser(client.id, 'owner')
    const viewer = await seedUser(client.id, 'viewer')
    const body = { email: email(), role: 'viewer' }
    expect((await send('POST', `/api/client/${client.id}/users/invite`, viewer.headers, body)).status).toBe(
      403,
    )
    expect((await send('POST', `/api/client/${other.id}/users/invite`, owner.headers, body)).status).toBe(404)
    expect(
      (await send('POST', `/api/client/${client.id}/users/invite`, owner.headers, { email: 'not-an-email' }))
        .status,
    ).toBe(400)
    const res = await send('POST', `/api/client/${client.id}/users/invite`, owner.headers, body)
    expect(res.status).toBe(201)
    expect(((await res.json()) as { inviteUrl: string }).inviteUrl).toMatch(/\/invite\/inv_/)
  })
})
