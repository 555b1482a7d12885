/** Client portal: team (invite, disable), webhook and risk weights; account page: personal API tokens. */
import { and, desc, eq, isNull } from 'drizzle-orm'
import { Hono } from 'hono'
import { requirePerson } from '../../auth/middleware'
import { database } from '../../db/client'
import { apiTokens, clients, users } from '../../db/schema'
import type { AppEnv } from '../../env'
import { publicUser } from '../../auth/accounts'
import { Empty, Panel, Time } from '../ui/bits'
import { ApiForm, ShownOnce } from '../ui/forms'
import { Shell } from '../ui/layout'
import { Table } from '../ui/table'
import { canWrite, portalClient, viewerOf } from './context'
import { PeopleTable } from './people-table'
import { RiskWeightsPanel } from './risk-weights-panel'
import { activeParams } from '../../db/queries/engine-params'
import { riskWeightsOf } from '../../db/queries/risk-weights'

export const portalSettings = new Hono<AppEnv>()

portalSettings.get('/settings', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const db = database(c.env.DB)
  const [team, [hook], { params }, overrides] = await Promise.all([
    db.select().from(users).where(eq(users.clientId, client.id)).orderBy(users.email),
    db.select({ url: clients.webhookUrl }).from(clients).where(eq(clients.id, client.id)),
    activeParams(db),
    riskWeightsOf(db, client.id),
  ])
  const writable = canWrite(viewer)
  return c.html(
    <Shell title="Settings" viewer={viewer} active={`/c/${client.id}/settings`} client={client}>
      <Panel title="Team">
        {team.length === 0 ? (
          <Empty>Nobody from this client can sign in yet: invite an owner below.</Empty>
        ) : (
          <PeopleTable
            id="team"
            people={team.map(publicUser)}
            sinceLabel="Since"
            action={(u) =>
              writable && !u.disabledAt ? (
                <ApiForm
                  api={`/api/client/${client.id}/users/${u.id}`}
                  method="DELETE"
                  confirm={`Remove ${u.email}?`}
                  csrf={viewer.csrfToken}
                  tone="danger"
                  submit="Remove"
                />
              ) : null
            }
          />
        )}
        {writable ? (
          <>
            <ApiForm
              class="inline"
              api={`/api/client/${client.id}/users/invite`}
              show="invite-out"
              style="margin-top:12px"
              csrf={viewer.csrfToken}
              tone="primary"
              submit="Invite"
            >
              <input name="email" type="email" placeholder="E-mail" required />
              <select name="role">
                <option value="viewer">Viewer (read only)</option>
                <option value="owner">Owner (can change things)</option>
              </select>
            </ApiForm>
            <ShownOnce
              id="invite-out"
              label="Send this one-time link (valid 7 days):"
              field="inviteUrl"
              style="margin-top:10px"
            />
          </>
        ) : null}
      </Panel>
      <Panel title="Webhook">
        <p class="muted" style="margin-top:0">
          Each notification is POSTed as JSON with{' '}
          <code>X-SpotGuard-Signature: sha256=&lt;HMAC-SHA256 of the body&gt;</code> and{' '}
          <code>X-SpotGuard-Timestamp</code>. The URL must be https and public (no loopback, private or
          link-local address, no localhost).
        </p>
        <p>
          Current: {hook?.url ? <code id="webhook-url">{hook.url}</code> : <span class="muted">none</span>}
        </p>
        {writable ? (
          <>
            <ApiForm
              class="inline"
              api={`/api/client/${client.id}/webhook`}
              method="PUT"
              show="hook-out"
              csrf={viewer.csrfToken}
              tone="primary"
              submit="Save"
            >
              <input
                name="url"
                type="url"
                placeholder="https://example.com/hooks/spotguard"
                data-null
                style="min-width:280px"
              />
            </ApiForm>
            <ShownOnce
              id="hook-out"
              label="Signing secret (shown once):"
              field="secret"
              style="margin-top:10px"
            />
            {hook?.url ? (
              <ApiForm
                api={`/api/client/${client.id}/webhook/test`}
                show="hook-test"
                style="margin-top:8px"
                csrf={viewer.csrfToken}
                submit="Send a test"
                after={
                  <span id="hook-test" hidden>
                    {' '}
                    <b data-field="result" />
                  </span>
                }
              />
            ) : null}
          </>
        ) : null}
      </Panel>
      <RiskWeightsPanel
        clientId={client.id}
        defaults={params.weights}
        overrides={overrides}
        writable={writable}
        csrf={viewer.csrfToken}
      />
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
          <Table bare columns={['Name', 'Prefix', 'Created', 'Last used', '']}>
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
                  <ApiForm
                    api={`/api/me/tokens/${t.id}`}
                    method="DELETE"
                    confirm="Revoke this token?"
                    csrf={viewer.csrfToken}
                    tone="danger"
                    submit="Revoke"
                  />
                </td>
              </tr>
            ))}
          </Table>
        )}
        {userId ? (
          <>
            <ApiForm
              class="inline"
              api="/api/me/tokens"
              show="token-out"
              style="margin-top:12px"
              csrf={viewer.csrfToken}
              tone="primary"
              submit="Create token"
            >
              <input name="name" placeholder="Token name, e.g. ci" required />
            </ApiForm>
            <ShownOnce id="token-out" label="Shown once:" field="token" style="margin-top:10px" />
          </>
        ) : (
          <Empty>The operator token has no account: create an admin account to hold tokens.</Empty>
        )}
      </Panel>
      {userId ? (
        <Panel title="Password">
          <ApiForm
            class="inline"
            api="/api/me/password"
            redirect="/login"
            csrf={viewer.csrfToken}
            submit="Change password"
          >
            <input name="currentPassword" type="password" placeholder="Current password" required />
            <input
              name="newPassword"
              type="password"
              placeholder="New password (12+)"
              minlength={12}
              required
            />
          </ApiForm>
        </Panel>
      ) : null}
    </Shell>,
  )
})
