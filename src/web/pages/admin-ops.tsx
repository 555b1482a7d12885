/** Admin operations pages: activity and audit log, system health, engine parameters, admin accounts. */
import { Hono } from 'hono'
import { database } from '../../db/client'
import { users } from '../../db/schema'
import type { AppEnv } from '../../env'
import { readQuery } from './query'
import { publicUser } from '../../auth/accounts'
import { AuditQuery, listActivity, listAudit } from '../../db/queries/activity'
import { systemHealth } from '../../db/queries/health'
import { Badge, Empty, Pager, Panel, Stat, Time } from '../ui/bits'
import { ApiForm } from '../ui/forms'
import { Shell } from '../ui/layout'
import { Table } from '../ui/table'
import { viewerOf } from './context'
import { PeopleTable } from './people-table'
import { clock } from '../../clock'

export const adminOpsPages = new Hono<AppEnv>()

adminOpsPages.get('/activity', async (c) => {
  const viewer = viewerOf(c)
  const db = database(c.env.DB)
  const q = readQuery(c, AuditQuery)
  const [activity, audit] = await Promise.all([
    listActivity(db, null, 30, clock.now() + 1),
    listAudit(db, null, q),
  ])
  return c.html(
    <Shell title="Activity & audit log" viewer={viewer} active="/admin/activity">
      <Panel title="Recent activity">
        {activity.items.length === 0 ? (
          <Empty>Nothing happened yet. Notifications and every change made in the console appear here.</Empty>
        ) : (
          <Table columns={['When', 'Type', 'What']}>
            {activity.items.map((a) => (
              <tr>
                <td>
                  <Time ms={a.time} />
                </td>
                <td>
                  <Badge value={a.severity} /> <code>{a.type}</code>
                </td>
                <td>{a.text}</td>
              </tr>
            ))}
          </Table>
        )}
      </Panel>
      <Panel title="Audit log">
        <form class="filters" method="get">
          <input name="action" value={q.action ?? ''} placeholder="Action prefix, e.g. client." />
          <input name="clientId" value={q.clientId ?? ''} placeholder="Client id" />
          <button type="submit">Filter</button>
        </form>
        {audit.items.length === 0 ? (
          <Empty>No audit entry matches.</Empty>
        ) : (
          <Table id="audit" columns={['When', 'Who', 'Action', 'Target', 'Before → after']}>
            {audit.items.map((e) => (
              <tr>
                <td>
                  <Time ms={e.createdAt} />
                </td>
                <td>
                  {e.actorEmail ?? e.actorType}
                  <div class="muted" style="font-size:12px">
                    {e.actorType}
                  </div>
                </td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>
                  {e.targetType} <code>{e.targetId}</code>
                </td>
                <td style="max-width:380px;font-size:12px">
                  <code>{e.before ? JSON.stringify(e.before) : '—'}</code> →{' '}
                  <code>{e.after ? JSON.stringify(e.after) : '—'}</code>
                </td>
              </tr>
            ))}
          </Table>
        )}
        <Pager url={c.req.url} page={audit.page} limit={audit.limit} total={audit.total} />
      </Panel>
    </Shell>,
  )
})

adminOpsPages.get('/health', async (c) => {
  const viewer = viewerOf(c)
  const h = await systemHealth(database(c.env.DB), c.env.DB, clock.now())
  return c.html(
    <Shell title="System health" viewer={viewer} active="/admin/health">
      <div class="cards">
        <Stat label="API" value={<Badge value={h.apiStatus} />} sub={<Time ms={Date.parse(h.timestamp)} />} />
        <Stat
          label="Database"
          value={<Badge value={h.database === 'connected' ? 'healthy' : 'failed'} />}
          sub={`${h.dbLatencyMs} ms round trip`}
        />
        <Stat
          label="Engine version"
          value={h.decisionEngine?.activeVersion ?? 'defaults'}
          sub={
            h.decisionEngine?.shadowVersions.length
              ? `shadow: v${h.decisionEngine.shadowVersions.join(', v')}`
              : 'no shadow version'
          }
        />
      </div>
      <Panel title="Scheduled jobs">
        {h.cronRuns.length === 0 ? (
          <Empty>
            No cron run recorded yet. Cron Triggers run every 5 minutes once deployed; under wrangler dev use
            --test-scheduled.
          </Empty>
        ) : (
          <Table columns={['Job', 'Last start', 'Finished', 'Result', 'Detail']}>
            {h.cronRuns.map((r) => (
              <tr>
                <td>
                  <code>{r.job}</code>
                </td>
                <td>
                  <Time ms={r.startedAt} />
                </td>
                <td>
                  <Time ms={r.finishedAt} />
                </td>
                <td>
                  <Badge
                    value={r.stale ? 'expired' : r.ok === false ? 'failed' : r.ok ? 'success' : 'running'}
                  />
                </td>
                <td class="muted">{r.detail ?? ''}</td>
              </tr>
            ))}
          </Table>
        )}
      </Panel>
      <Panel title="Agent versions">
        {h.agentVersions.length === 0 ? (
          <Empty>No agents registered yet.</Empty>
        ) : (
          <Table bare columns={['Version', ['Agents', 'num']]}>
            {h.agentVersions.map((v) => (
              <tr>
                <td>
                  {v.version}
                  {Number.parseInt(v.version, 10) < 5 ? ' (legacy)' : ''}
                </td>
                <td class="num">{v.agents}</td>
              </tr>
            ))}
          </Table>
        )}
      </Panel>
    </Shell>,
  )
})

adminOpsPages.get('/users', async (c) => {
  const viewer = viewerOf(c)
  const rows = await database(c.env.DB).select().from(users).orderBy(users.role, users.email).limit(500)
  return c.html(
    <Shell title="Accounts" viewer={viewer} active="/admin/users">
      <Panel title="New admin">
        <ApiForm
          class="inline"
          api="/api/admin/users"
          csrf={viewer.csrfToken}
          tone="primary"
          submit="Create admin"
        >
          <input name="email" type="email" placeholder="E-mail" required />
          <input name="password" type="password" placeholder="Password (12+)" minlength={12} required />
        </ApiForm>
      </Panel>
      <Panel title="All accounts">
        <PeopleTable
          people={rows.map(publicUser)}
          showClient
          sinceLabel="Created"
          action={(u) =>
            u.disabledAt ? null : (
              <ApiForm
                api={`/api/admin/users/${u.id}/disable`}
                confirm={`Disable ${u.email}?`}
                csrf={viewer.csrfToken}
                tone="danger"
                submit="Disable"
              />
            )
          }
        />
      </Panel>
    </Shell>,
  )
})
