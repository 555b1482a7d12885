/**
 * Sign-in pages: /login, /logout, /setup (the first admin, with ADMIN_TOKEN) and /invite/:token.
 * These forms post before any session exists, so they use a double-submit CSRF cookie.
 */
import { Hono, type Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import * as z from 'zod'
import type { AppEnv } from '../../env'
import { database } from '../../db/client'
import { newToken, timingSafeEqual } from '../../ids'
import { auditEntry, loginFailureEntry } from '../../db/audit'
import { acceptInvite, createAdmin, Email, findInvite, hasNoAdmin, Password } from '../../auth/accounts'
import { checkLogin } from '../../auth/login'
import { findSession, openSession, revokeSession, SESSION_COOKIE, SESSION_TTL_MS } from '../../auth/sessions'
import { Document } from '../ui/layout'
import { clock } from '../../clock'

const FORM_CSRF_COOKIE = 'sg_form_csrf'
const cookieBase = { httpOnly: true, secure: true, sameSite: 'Strict', path: '/' } as const

/** A relative path to return to after login (never another origin). */
function safeNext(next: unknown): string {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') ? next : '/'
}

function formToken(c: Context<AppEnv>): string {
  const token = getCookie(c, FORM_CSRF_COOKIE) ?? newToken('fcsrf')
  setCookie(c, FORM_CSRF_COOKIE, token, { ...cookieBase, maxAge: 3600 })
  return token
}

async function checkedForm(c: Context<AppEnv>): Promise<Record<string, string> | null> {
  const form = Object.fromEntries(Object.entries(await c.req.parseBody()).map(([k, v]) => [k, String(v)]))
  const cookie = getCookie(c, FORM_CSRF_COOKIE) ?? ''
  return cookie && timingSafeEqual(cookie, form._csrf ?? '') ? form : null
}

function AuthCard(props: { title: string; sub?: string; error?: string; children: unknown }) {
  return (
    <Document title={props.title}>
      <div class="login">
        <h1>{props.title}</h1>
        {props.sub ? <p class="muted">{props.sub}</p> : null}
        {props.error ? (
          <p class="err" role="alert">
            {props.error}
          </p>
        ) : null}
        {props.children}
      </div>
    </Document>
  )
}

function LoginPage(props: { csrf: string; next: string; error?: string; email?: string }) {
  return (
    <AuthCard
      title="Sign in to SpotGuard"
      sub="Spot savings without losing the instance."
      error={props.error}
    >
      <form method="post" action="/login" class="stack">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <label for="email">E-mail</label>
        <input
          id="email"
          name="email"
          type="email"
          autocomplete="username"
          required
          value={props.email ?? ''}
        />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <button class="primary" type="submit">
          Sign in
        </button>
      </form>
    </AuthCard>
  )
}

export const authPages = new Hono<AppEnv>()

authPages.get('/login', (c) => c.html(<LoginPage csrf={formToken(c)} next={safeNext(c.req.query('next'))} />))

authPages.post('/login', async (c) => {
  const form = await checkedForm(c)
  const csrf = formToken(c)
  if (!form)
    return c.html(<LoginPage csrf={csrf} next="/" error="Your form expired. Please try again." />, 403)
  const next = safeNext(form.next)
  const email = Email.safeParse(form.email)
  const db = database(c.env.DB)
  const now = clock.now()
  const ip = c.req.header('cf-connecting-ip') ?? 'local'
  const key = email.success ? email.data : String(form.email ?? '').slice(0, 254)
  const check = await checkLogin(
    db,
    { email: key, isEmail: email.success, password: form.password ?? '', ip },
    now,
  )
  if (!check.ok && check.reason === 'rate_limited') {
    return c.html(
      <LoginPage csrf={csrf} next={next} email={key} error="Too many failed attempts. Wait 15 minutes." />,
      429,
    )
  }
  if (!check.ok) {
    await loginFailureEntry(db, { email: key, ip, requestId: c.get('requestId') }, now)
    return c.html(<LoginPage csrf={csrf} next={next} email={key} error="Wrong e-mail or password." />, 401)
  }
  const { user, principal } = check
  const session = await openSession(db, user.id, now)
  c.set('principal', principal)
  await auditEntry(
    c,
    db,
    { action: 'auth.login', clientId: user.clientId, targetType: 'user', targetId: user.id },
    now,
  )
  setCookie(c, SESSION_COOKIE, session.cookie, { ...cookieBase, maxAge: SESSION_TTL_MS / 1000 })
  return c.redirect(
    next === '/' ? (principal.kind === 'admin' ? '/admin' : `/c/${user.clientId}`) : next,
    303,
  )
})

authPages.post('/logout', async (c) => {
  const db = database(c.env.DB)
  const cookie = getCookie(c, SESSION_COOKIE)
  const session = cookie ? await findSession(db, cookie, clock.now()) : null
  const form = await c.req.parseBody()
  if (session && timingSafeEqual(String(form._csrf ?? ''), session.csrfToken)) {
    const now = clock.now()
    await revokeSession(db, session.id, now)
    c.set('principal', session.principal)
    await auditEntry(
      c,
      db,
      {
        action: 'auth.logout',
        clientId: session.user.clientId,
        targetType: 'user',
        targetId: session.user.id,
      },
      now,
    )
  }
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true })
  return c.redirect('/login', 303)
})

function SetupPage(props: { csrf: string; error?: string }) {
  return (
    <AuthCard
      title="Create the first admin"
      sub="Prove you are the operator with ADMIN_TOKEN."
      error={props.error}
    >
      <form method="post" action="/setup" class="stack">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <label for="adminToken">ADMIN_TOKEN</label>
        <input id="adminToken" name="adminToken" type="password" required />
        <label for="email">Your e-mail</label>
        <input id="email" name="email" type="email" required />
        <label for="password">Password (12+ characters)</label>
        <input id="password" name="password" type="password" minlength={12} required />
        <button class="primary" type="submit">
          Create admin
        </button>
      </form>
    </AuthCard>
  )
}

const SetupForm = z.object({ adminToken: z.string(), email: Email, password: Password })

authPages.get('/setup', async (c) => {
  if (!(await hasNoAdmin(database(c.env.DB)))) return c.redirect('/login')
  return c.html(<SetupPage csrf={formToken(c)} />)
})

authPages.post('/setup', async (c) => {
  const db = database(c.env.DB)
  if (!(await hasNoAdmin(db))) return c.redirect('/login', 303)
  const form = await checkedForm(c)
  const csrf = formToken(c)
  const parsed = SetupForm.safeParse(form ?? {})
  if (!form || !parsed.success)
    return c.html(<SetupPage csrf={csrf} error="Check the fields (password: 12+ characters)." />, 400)
  if (!c.env.ADMIN_TOKEN || !timingSafeEqual(parsed.data.adminToken, c.env.ADMIN_TOKEN)) {
    return c.html(<SetupPage csrf={csrf} error="ADMIN_TOKEN does not match." />, 403)
  }
  const now = clock.now()
  const user = await createAdmin(db, parsed.data.email, parsed.data.password, now)
  c.set('principal', { kind: 'admin', userId: null })
  await auditEntry(
    c,
    db,
    { action: 'user.create_admin', targetType: 'user', targetId: user.id, after: { email: user.email } },
    now,
  )
  return c.redirect('/login', 303)
})

function InvitePage(props: { csrf: string; email: string; error?: string }) {
  return (
    <AuthCard title="Set your password" sub={`Welcome, ${props.email}.`} error={props.error}>
      <form method="post" class="stack">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <label for="password">Password (12+ characters)</label>
        <input id="password" name="password" type="password" minlength={12} required />
        <button class="primary" type="submit">
          Set password
        </button>
      </form>
    </AuthCard>
  )
}

authPages.get('/invite/:token', async (c) => {
  const found = await findInvite(database(c.env.DB), c.req.param('token'), clock.now())
  if (!found)
    return c.html(
      <AuthCard title="Invitation expired">Ask your admin or team owner for a new link.</AuthCard>,
      404,
    )
  return c.html(<InvitePage csrf={formToken(c)} email={found.user.email} />)
})

authPages.post('/invite/:token', async (c) => {
  const db = database(c.env.DB)
  const form = await checkedForm(c)
  const password = Password.safeParse(form?.password)
  const found = await findInvite(db, c.req.param('token'), clock.now())
  if (!found) return c.html(<AuthCard title="Invitation expired">Ask for a new link.</AuthCard>, 404)
  if (!form || !password.success) {
    return c.html(
      <InvitePage csrf={formToken(c)} email={found.user.email} error="Use at least 12 characters." />,
      400,
    )
  }
  await acceptInvite(db, c.req.param('token'), password.data, clock.now())
  return c.redirect('/login', 303)
})
