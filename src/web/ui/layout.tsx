/** The page shell: navigation for admins or for one client, the signed-in person, logout, CSRF meta. */
import type { Child } from 'hono/jsx'
import { raw } from 'hono/html'
import { CLIENT_SCRIPT } from './client-script'
import { STYLES } from './styles'

export interface Viewer {
  email: string
  isAdmin: boolean
  /** The client of a client user; null for admins. */
  clientId: string | null
  role: 'admin' | 'owner' | 'viewer'
  csrfToken: string
}

export interface ShellProps {
  title: string
  viewer: Viewer
  /** Path of the active nav entry. */
  active: string
  /** The client whose portal is shown (admins can open any). */
  client?: { id: string; name: string }
  actions?: Child
  children?: Child
}

function NavLink(props: { href: string; active: string; children: Child }) {
  return (
    <a href={props.href} class={props.active === props.href ? 'on' : ''}>
      {props.children}
    </a>
  )
}

export function Document(props: { title: string; csrf?: string; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {props.csrf ? <meta name="csrf" content={props.csrf} /> : null}
        <title>{props.title} · SpotGuard</title>
        <style>{raw(STYLES)}</style>
      </head>
      <body>
        {props.children}
        <script>{raw(CLIENT_SCRIPT)}</script>
      </body>
    </html>
  )
}

export function Shell(props: ShellProps) {
  const { viewer, active, client } = props
  const base = client ? `/c/${client.id}` : ''
  return (
    <Document title={props.title} csrf={viewer.csrfToken}>
      <div class="shell">
        <nav class="side">
          <div class="logo">
            SpotGuard <span>{viewer.isAdmin ? 'admin' : 'portal'}</span>
          </div>
          {viewer.isAdmin ? (
            <>
              <div class="grp">Operator</div>
              <NavLink href="/admin" active={active}>
                Overview
              </NavLink>
              <NavLink href="/admin/clients" active={active}>
                Clients
              </NavLink>
              <NavLink href="/admin/agents" active={active}>
                All agents
              </NavLink>
              <NavLink href="/admin/instances" active={active}>
                All instances
              </NavLink>
              <NavLink href="/admin/activity" active={active}>
                Activity &amp; audit
              </NavLink>
              <NavLink href="/admin/health" active={active}>
                System health
              </NavLink>
              <NavLink href="/admin/engine" active={active}>
                Engine
              </NavLink>
              <NavLink href="/admin/users" active={active}>
                Admins
              </NavLink>
            </>
          ) : null}
          {client ? (
            <>
              <div class="grp">{client.name}</div>
              <NavLink href={base} active={active}>
                Overview
              </NavLink>
              <NavLink href={`${base}/agents`} active={active}>
                Agents
              </NavLink>
              <NavLink href={`${base}/instances`} active={active}>
                Instances
              </NavLink>
              <NavLink href={`${base}/replicas`} active={active}>
                Replicas
              </NavLink>
              <NavLink href={`${base}/decisions`} active={active}>
                Decisions
              </NavLink>
              <NavLink href={`${base}/savings`} active={active}>
                Savings
              </NavLink>
              <NavLink href={`${base}/switches`} active={active}>
                Switch history
              </NavLink>
              <NavLink href={`${base}/notifications`} active={active}>
                Notifications
              </NavLink>
              <NavLink href={`${base}/settings`} active={active}>
                Team &amp; webhook
              </NavLink>
              <NavLink href={`${base}/install`} active={active}>
                Install agent
              </NavLink>
            </>
          ) : null}
          <div class="grp">Account</div>
          <NavLink href="/account" active={active}>
            API tokens
          </NavLink>
        </nav>
        <main>
          <header class="top">
            <h1>{props.title}</h1>
            <div class="who">
              {props.actions}
              <span>
                {viewer.email} · {viewer.role}
              </span>
              <form method="post" action="/logout" style="margin:0">
                <input type="hidden" name="_csrf" value={viewer.csrfToken} />
                <button type="submit" id="logout">
                  Sign out
                </button>
              </form>
            </div>
          </header>
          {props.children}
        </main>
      </div>
    </Document>
  )
}
