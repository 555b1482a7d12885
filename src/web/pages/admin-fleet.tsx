/** Admin pages over the whole fleet: overview, clients, all agents, all instances. */
import { Hono } from 'hono'
import { clientGrowth } from '../../db/queries/client-growth'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { readQuery } from './query'
import { AgentListQuery, listAgents } from '../../db/queries/agents'
import { livenessFrom } from '../../db/queries/liveness'
import { ClientListQuery, listClients } from '../../db/queries/clients'
import { InstanceListQuery, listInstances } from '../../db/queries/instances'
import { fleetTotals } from '../../db/queries/overview'
import { Badge, Empty, Filters, Pager, Panel, pct, Select, Stat, Time, usd } from '../ui/bits'
import { ApiForm, ShownOnce } from '../ui/forms'
import { Shell } from '../ui/layout'
import { Table } from '../ui/table'
import { viewerOf } from './context'
import { SavingsStats, SwitchesStat } from './fleet-stats'
import { AgentStatusSelect, AgentTable, InstanceFilterSelects, InstanceTable } from './tables'
import { clock } from '../../clock'

export const adminFleetPages = new Hono<AppEnv>()

adminFleetPages.get('/', async (c) => {
  const viewer = viewerOf(c)
  const db = database(c.env.DB)
  const now = clock.now()
  const [t, growth] = await Promise.all([fleetTotals(db, null, now), clientGrowth(db, 30, now)])
  const latest = growth.at(-1)
  return c.html(
    <Shell title="Fleet overview" viewer={viewer} active="/admin">
      <div class="cards">
        <Stat label="Clients" value={t.clients} />
        <Stat
          label="Agents online"
          value={`${t.agentsOnline} / ${t.agentsTotal}`}
          sub={`${t.agentsOffline} offline · ${t.agentsDisabled} disabled`}
        />
        <Stat
          label="Instances"
          value={t.instancesSpot + t.instancesOnDemand}
          sub={`${t.instancesSpot} spot · ${t.instancesOnDemand} on-demand`}
        />
        <Stat label="Spot coverage (30 d)" value={pct(t.spotCoverage)} sub="spot instance-hours / all" />
        <SavingsStats totals={t} noDayYet="no usage recorded yet" shareWording="of on-demand" />
        <SwitchesStat totals={t} />
        <Stat label="Pools in use" value={t.poolsCovered} />
        <Stat
          label="Clients, 30 d snapshots"
          value={latest ? `${latest.total} on ${latest.date}` : 'no snapshot yet'}
          sub={
            latest
              ? `${growth.reduce((n, g) => n + g.new, 0)} new · ${latest.active} active that day`
              : 'the hourly cron writes one per day'
          }
        />
      </div>
      {t.clients === 0 ? (
        <Empty>
          No clients yet. <a href="/admin/clients">Create the first client</a>, then give its token to the
          install command.
        </Empty>
      ) : null}
    </Shell>,
  )
})

adminFleetPages.get('/clients', async (c) => {
  const viewer = viewerOf(c)
  const q = readQuery(c, ClientListQuery)
  const page = await listClients(database(c.env.DB), livenessFrom(c.env), q, clock.now())
  return c.html(
    <Shell title="Clients" viewer={viewer} active="/admin/clients">
      <Panel title="New client">
        <ApiForm
          class="inline"
          api="/api/admin/clients/create"
          show="new-client"
          csrf={viewer.csrfToken}
          tone="primary"
          submit="Create client"
        >
          <input name="name" placeholder="Name" required maxlength={120} />
          <input name="email" type="email" placeholder="Contact e-mail (optional)" />
        </ApiForm>
        <div id="new-client" hidden class="note" style="margin-top:12px">
          <p style="margin:0 0 6px">
            Client <b data-field="client.name" /> created. Its agent token is shown <b>only now</b>; copy it
            into the install command:
          </p>
          <div class="secret" data-field="client.token" id="new-token" />
        </div>
      </Panel>
      <Panel>
        <Filters search={q.search} placeholder="Search name, e-mail or id">
          <Select
            name="status"
            value={q.status}
            options={[
              ['', 'Active & suspended'],
              ['active', 'Active'],
              ['suspended', 'Suspended'],
              ['deleted', 'Deleted'],
            ]}
          />
        </Filters>
        {page.items.length === 0 ? (
          <Empty>{q.search ? 'No client matches this search.' : 'No clients yet: create one above.'}</Empty>
        ) : (
          <Table
            id="clients"
            columns={[
              'Client',
              'Status',
              ['Agents online', 'num'],
              ['Instances', 'num'],
              ['Saved', 'num'],
              'Last sync',
              'Actions',
            ]}
          >
            {page.items.map((cl) => (
              <tr data-client={cl.id}>
                <td>
                  <a href={`/c/${cl.id}`}>{cl.name}</a>
                  <div class="muted" style="font-size:12px">
                    {cl.email ?? cl.id}
                  </div>
                </td>
                <td>
                  <Badge value={cl.status} />
                </td>
                <td class="num">
                  {cl.agentsOnline} / {cl.agentsTotal}
                </td>
                <td class="num">{cl.instances}</td>
                <td class="num">{usd(cl.totalSavings)}</td>
                <td>
                  <Time ms={cl.lastSync} />
                </td>
                <td>
                  {cl.status === 'deleted' ? null : (
                    <div class="inline" style="display:flex;gap:6px;flex-wrap:wrap">
                      <ApiForm
                        api={`/api/admin/clients/${cl.id}/regenerate-token`}
                        show={`rot-${cl.id}`}
                        confirm="Rotate the token? The old one keeps working during the grace period."
                        csrf={viewer.csrfToken}
                        submit="Rotate token"
                      />
                      <ApiForm
                        api={`/api/admin/clients/${cl.id}/regenerate-token`}
                        show={`rot-${cl.id}`}
                        confirm="Rotate and revoke the old token now? Every agent stops until it has the new one."
                        csrf={viewer.csrfToken}
                        tone="danger"
                        submit="Rotate, revoke now"
                      >
                        <input type="hidden" name="revokeNow" value="true" data-bool />
                      </ApiForm>
                      <ApiForm
                        api={`/api/admin/clients/${cl.id}/${cl.status === 'suspended' ? 'activate' : 'suspend'}`}
                        csrf={viewer.csrfToken}
                        submit={cl.status === 'suspended' ? 'Reactivate' : 'Suspend'}
                      />
                      <ApiForm
                        api={`/api/admin/clients/${cl.id}`}
                        method="DELETE"
                        confirmName={cl.name}
                        csrf={viewer.csrfToken}
                        tone="danger"
                        submit="Delete"
                      />
                    </div>
                  )}
                  <ShownOnce
                    id={`rot-${cl.id}`}
                    label="New token (shown once):"
                    field="token"
                    style="margin-top:6px"
                  />
                </td>
              </tr>
            ))}
          </Table>
        )}
        <Pager url={c.req.url} page={page.page} limit={page.limit} total={page.total} />
      </Panel>
    </Shell>,
  )
})

adminFleetPages.get('/agents', async (c) => {
  const viewer = viewerOf(c)
  const q = readQuery(c, AgentListQuery)
  const page = await listAgents(database(c.env.DB), livenessFrom(c.env), null, q)
  return c.html(
    <Shell title="All agents" viewer={viewer} active="/admin/agents">
      <Panel>
        <Filters search={q.search} placeholder="Search agent, host, instance or client">
          <AgentStatusSelect status={q.status} />
        </Filters>
        {page.items.length === 0 ? (
          <Empty>No agent matches. Agents appear here when they register with a client token.</Empty>
        ) : (
          <AgentTable rows={page.items} showClient />
        )}
        <Pager url={c.req.url} page={page.page} limit={page.limit} total={page.total} />
      </Panel>
    </Shell>,
  )
})

adminFleetPages.get('/instances', async (c) => {
  const viewer = viewerOf(c)
  const q = readQuery(c, InstanceListQuery)
  const page = await listInstances(database(c.env.DB), livenessFrom(c.env), null, q)
  return c.html(
    <Shell title="All instances" viewer={viewer} active="/admin/instances">
      <Panel>
        <Filters search={q.search} placeholder="Search instance, type, AZ, agent or client">
          <InstanceFilterSelects mode={q.mode} status={q.status} />
        </Filters>
        {page.items.length === 0 ? (
          <Empty>No instance matches.</Empty>
        ) : (
          <InstanceTable rows={page.items} showClient />
        )}
        <Pager url={c.req.url} page={page.page} limit={page.limit} total={page.total} />
      </Panel>
    </Shell>,
  )
})
