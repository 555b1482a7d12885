/** Login attacks: parallel guessing past the limit, account discovery by timing, lockout of the owner, a stolen session or token outliving a password change. */
import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { createAdmin, inviteUser } from '../../../src/auth/accounts'
import { checkLogin } from '../../../src/auth/login'
import { verifyPassword } from '../../../src/auth/password'
import {
  LOGIN_MAX_PER_EMAIL,
  LOGIN_MAX_PER_IP,
  LOGIN_MAX_PER_IP_AND_EMAIL,
} from '../../../src/auth/rate-limit'
import { db, seedClient } from '../web/seed'
import { cookiesOf, postLogin } from '../web/login'

const email = () => `u${crypto.randomUUID().slice(0, 8)}@example.com`
const PASSWORD = 'a long admin password'

/** A verify that counts its calls and, without PBKDF2's cost, matches nothing (every attempt here is wrong). */
function countedVerify() {
  const calls: string[] = []
  const verify: typeof verifyPassword = async (_password, stored) => {
    calls.push(stored.salt)
    return false
  }
  return { calls, verify }
}

describe('login', () => {
  it(`evaluates at most ${LOGIN_MAX_PER_IP_AND_EMAIL} of many parallel wrong passwords from one address`, async () => {
    const user = email()
    await createAdmin(db(), user, PASSWORD, Date.now())
    const { calls, verify } = countedVerify()
    const now = Date.now()
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        checkLogin(
          db(),
          { email: user, isEmail: true, password: 'wrong guess!!', ip: '203.0.113.7' },
          now,
          verify,
        ),
      ),
    )
    expect(calls).toHaveLength(LOGIN_MAX_PER_IP_AND_EMAIL)
    expect(results.filter((r) => !r.ok && r.reason === 'wrong')).toHaveLength(LOGIN_MAX_PER_IP_AND_EMAIL)
    expect(results.filter((r) => !r.ok && r.reason === 'rate_limited')).toHaveLength(
      20 - LOGIN_MAX_PER_IP_AND_EMAIL,
    )
  })

  it('answers parallel wrong logins through the form with at most the limit of 401s, the rest 429', async () => {
    const user = email()
    await createAdmin(db(), user, PASSWORD, Date.now())
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () =>
        postLogin(user, 'wrong guess!!', undefined, '203.0.113.8').then((r) => r.status),
      ),
    )
    expect(statuses.filter((s) => s === 401)).toHaveLength(LOGIN_MAX_PER_IP_AND_EMAIL)
    expect(statuses.filter((s) => s === 429)).toHaveLength(10 - LOGIN_MAX_PER_IP_AND_EMAIL)
  })

  it('derives PBKDF2 for unknown, malformed, disabled and not-yet-invited e-mails as for a known one', async () => {
    const client = await seedClient()
    const known = email()
    await createAdmin(db(), known, PASSWORD, Date.now())
    const { user: invited } = await inviteUser(
      db(),
      client.id,
      { email: email(), role: 'viewer' },
      null,
      Date.now(),
    )
    const { calls, verify } = countedVerify()
    const now = Date.now()
    const attempt = (address: string, isEmail = true) =>
      checkLogin(
        db(),
        { email: address, isEmail, password: 'wrong guess!!', ip: `198.51.100.${calls.length}` },
        now,
        verify,
      )
    expect(await attempt(known)).toEqual({ ok: false, reason: 'wrong' })
    expect(await attempt(email())).toEqual({ ok: false, reason: 'wrong' })
    expect(await attempt('not an e-mail', false)).toEqual({ ok: false, reason: 'wrong' })
    expect(await attempt(invited.email)).toEqual({ ok: false, reason: 'wrong' })
    expect(calls).toHaveLength(4)
  })

  it("keeps the owner signing in from their address while an attacker's address is locked, until the per-e-mail ceiling", async () => {
    const owner = email()
    await createAdmin(db(), owner, PASSWORD, Date.now())
    for (let i = 0; i < LOGIN_MAX_PER_IP_AND_EMAIL; i++)
      expect((await postLogin(owner, 'wrong guess!!', undefined, '203.0.113.9')).status).toBe(401)
    expect((await postLogin(owner, PASSWORD, undefined, '203.0.113.9')).status).toBe(429)
    expect((await postLogin(owner, PASSWORD, undefined, '192.0.2.50')).status).toBe(303)
    // Attackers spread over many addresses fill the per-e-mail ceiling; then the account waits.
    const { verify } = countedVerify()
    const now = Date.now()
    for (let i = 0; i < LOGIN_MAX_PER_EMAIL; i++) {
      await checkLogin(
        db(),
        { email: owner, isEmail: true, password: 'x', ip: `10.66.${i >> 8}.${i & 255}` },
        now,
        verify,
      )
    }
    expect(
      await checkLogin(
        db(),
        { email: owner, isEmail: true, password: PASSWORD, ip: '192.0.2.50' },
        now,
        verify,
      ),
    ).toEqual({ ok: false, reason: 'rate_limited' })
  })

  it(`stops one address after ${LOGIN_MAX_PER_IP} failures over any e-mails`, async () => {
    const { verify } = countedVerify()
    const now = Date.now()
    for (let i = 0; i < LOGIN_MAX_PER_IP; i++)
      await checkLogin(
        db(),
        { email: email(), isEmail: true, password: 'x', ip: '203.0.113.99' },
        now,
        verify,
      )
    expect(
      await checkLogin(
        db(),
        { email: email(), isEmail: true, password: 'x', ip: '203.0.113.99' },
        now,
        verify,
      ),
    ).toEqual({ ok: false, reason: 'rate_limited' })
  })

  it("ends the person's other sessions and personal tokens on a password change, keeping the changing session", async () => {
    const user = email()
    await createAdmin(db(), user, PASSWORD, Date.now())
    const signIn = async () => `sg_session=${cookiesOf(await postLogin(user, PASSWORD)).sg_session}`
    const changing = await signIn()
    const other = await signIn()
    const csrfOf = async (cookie: string) =>
      (await (await SELF.fetch('http://x/admin', { headers: { Cookie: cookie } })).text()).match(
        /name="csrf" content="([^"]+)"/,
      )![1]!
    const csrf = await csrfOf(changing)
    const headers = { Cookie: changing, 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }
    const created = await SELF.fetch('http://x/api/me/tokens', {
      method: 'POST',
      headers,
      body: '{"name":"ci"}',
    })
    const { token } = (await created.json()) as { token: string }
    const bearer = { Authorization: `Bearer ${token}` }
    expect((await SELF.fetch('http://x/api/me', { headers: bearer })).status).toBe(200)
    expect((await SELF.fetch('http://x/api/me', { headers: { Cookie: other } })).status).toBe(200)

    const changed = await SELF.fetch('http://x/api/me/password', {
      method: 'POST',
      headers,
      body: JSON.stringify({ currentPassword: PASSWORD, newPassword: 'another long password' }),
    })
    expect(changed.status).toBe(200)
    expect((await SELF.fetch('http://x/api/me', { headers: { Cookie: other } })).status).toBe(401)
    expect((await SELF.fetch('http://x/api/me', { headers: bearer })).status).toBe(401)
    expect((await SELF.fetch('http://x/api/me', { headers: { Cookie: changing } })).status).toBe(200)
    expect((await postLogin(user, 'another long password')).status).toBe(303)
  })
})
