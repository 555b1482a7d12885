/** Client portal: team (invite, disable) and webhook; account page: personal API tokens. */
import { and, desc, eq, isNull } from 'drizzle-orm'
import { Hono } from 'hono'
import { requirePerson } from '../../auth'
import { database } from '../../db/client'
import { apiTokens, clients, users } from '../../db/schema'
import type { AppEnv } from '../../env'
import { publicUser } from '../auth/accounts'
import { Badge, Csrf, Empty, Panel, Time } from '../ui/bits'
import { Shell } from '../ui/layout'
import { canWrite, portalClient, viewerOf } from './context'

export const portalSettings = new Hono<AppEnv>()

portalSettings.get('/settings', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const db = database(c.env.DB)
  const [team, [hook]] = await Promise.all([
    db.select().from(users).where(eq(users.clientId, client.id)).orderBy(users.email),
    db.select({ url: clients.webhookUrl }).from(clients).where(eq(clients.id, client.id)),
  ])
  const writable = canWrite(viewer)
  return c.html(
    <Shell title="Team & webhook" viewer={viewer} active={`/c/${client.id}/settings`} client={client}>
      <Panel title="Team">
        {team.length === 0 ? (
          <Empty>Nobody from this client can sign in yet: invite an owner below.</Empty>
        ) : (
          <div class="tablewrap">
            <table id="team">
              <thead>
                <tr>
                  <th>E-mail</th>
                  <th>Role</th>
                  <th>Since</th>
                  <th>Status</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {team.map(publicUser).map((u) => (
                  <tr>
                    <td>{u.email}</td>
                    <td>{u.role}</td>
                    <td>
                      <Time ms={u.createdAt} date />
                    </td>
                    <td>
                      <Badge value={u.disabledAt ? 'disabled' : 'active'} />
                    </td>
                    <td>
                      {writable && !u.disabledAt ? (
                        <form
                          data-api={`/api/client/${client.id}/users/${u.id}`}
                          data-method="DELETE"
                          data-confirm={`Remove ${u.email}?`}
                        >
                          <Csrf token={viewer.csrfToken} />
                          <button class="danger" type="submit">
                            Remove
                          </button>
                          <span class="msg" />
                        </form>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {writable ? (
          <>
            <form
              class="inline"
              data-api={`/api/client/${client.id}/users/invite`}
              data-show="invite-out"
              style="margin-top:12px"
            >
              <Csrf token={viewer.csrfToken} />
              <input name="email" type="email" placeholder="E-mail" required />
              <select name="role">
                <option value="viewer">Viewer (read only)</option>
                <option value="owner">Owner (can change things)</option>
              </select>
              <button class="primary" type="submit">
                Invite
              </button>
              <span class="msg" />
            </form>
            <div id="invite-out" hidden class="note" style="margin-top:10px">
              Send this one-time link (valid 7 days): <div class="secret" data-field="inviteUrl" />
            </div>
          </>
        ) : null}
      </Panel>
      <Panel title="Webhook">
        <p class="muted" style="margin-top:0">
          Each notification is POSTed as JSON with{' '}
          <code>X-SpotGuard-Signature: sha256=&lt;HMAC-SHA256 of the body&gt;</code> and{' '}
          <code>X-SpotGuard-Timestamp</code>.
        </p>
        <p>
          Current: {hook?.url ? <code id="webhook-url">{hook.url}</code> : <span class="muted">none</span>}
        </p>
        {writable ? (
          <>
            <form
              class="inline"
              data-api={`/api/client/${client.id}/webhook`}
              data-method="PUT"
              data-show="hook-out"
            >
              <Csrf token={viewer.csrfToken} />
              <input
                name="url"
                type="url"
                placeholder="https://example.com/hooks/spotguard"
                data-null
                style="min-width:280px"
              />
              <button class="primary" type="submit">
                Save
              </button>
              <span class="msg" />
            </form>
            <div id="hook-out" hidden class="note" style="margin-top:10px">
              Signing secret (shown once): <div class="secret" data-field="secret" />
            </div>
            {hook?.url ? (
              <form
                data-api={`/api/client/${client.id}/webhook/test`}
                data-show="hook-test"
                style="margin-top:8px"
              >
                <Csrf token={viewer.csrfToken} />
                <button type="submit">Send a test</button>
                <span class="msg" />
                <span id="hook-test" hidden>
                  {' '}
                  status <b data-field="status" /> <b data-field="reason" />
                </span>
              </form>
            ) : null}
          </>
        ) : null}
      </Panel>
    </Shell>,
  )
})

export const accountPage = new Hono<AppEnv>()

accountPage.get('/account', async (c) => {
  const viewer = viewerOf(c)
  const person = requirePerson(c)
  const userId = person.kind === 'admin' ? person.userId : person.userId
  const tokens = userId
    ? await database(c.env.DB)
        .select()
        .from(apiTokens)
        .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
        .orderBy(desc(apiTokens.createdAt))
    : []
  const client = person.kind === 'user' ? { id: person.clientId, name: 'My client' } : undefined
  return c.html(
    <Shell title="API tokens" viewer={viewer} active="/account" client={client}>
      <Panel title="Personal API tokens">
        <p class="muted" style="margin-top:0">
          For scripts: <code>Authorization: Bearer sgp_…</code> on <code>/api/client/…</code>
          {viewer.isAdmin ? ' and /api/admin/…' : ''}. A token acts as you, with your role. Client (agent)
          tokens never open these routes.
        </p>
        {tokens.length === 0 ? (
          <Empty>No token yet.</Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Prefix</th>
                <th>Created</th>
                <th>Last used</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr>
                  <td>{t.name}</td>
                  <td>
                    <code>{t.prefix}…</code>
                  </td>
                  <td>
                    <Time ms={t.createdAt} />
                  </td>
                  <td>
                    <Time ms={t.lastUsedAt} />
                  </td>
                  <td>
                    <form
                      data-api={`/api/me/tokens/${t.id}`}
                      data-method="DELETE"
                      data-confirm="Revoke this token?"
                    >
                      <Csrf token={viewer.csrfToken} />
                      <button class="danger" type="submit">
                        Revoke
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {userId ? (
          <>
            <form class="inline" data-api="/api/me/tokens" data-show="token-out" style="margin-top:12px">
              <Csrf token={viewer.csrfToken} />
              <input name="name" placeholder="Token name, e.g. ci" required />
              <button class="primary" type="submit">
                Create token
              </button>
              <span class="msg" />
            </form>
            <div id="token-out" hidden class="note" style="margin-top:10px">
              Shown once: <div class="secret" data-field="token" />
            </div>
          </>
        ) : (
          <Empty>The operator token has no account: create an admin account to hold tokens.</Empty>
        )}
      </Panel>
      {userId ? (
        <Panel title="Password">
          <form class="inline" data-api="/api/me/password" data-redirect="/login">
            <Csrf token={viewer.csrfToken} />
            <input name="currentPassword" type="password" placeholder="Current password" required />
            <input
              name="newPassword"
              type="password"
              placeholder="New password (12+)"
              minlength={12}
              required
            />
            <button type="submit">Change password</button>
            <span class="msg" />
          </form>
        </Panel>
      ) : null}
    </Shell>,
  )
})
