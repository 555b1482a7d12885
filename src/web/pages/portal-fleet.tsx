/** Client portal: overview, agents list, one agent (settings, delete), install command. */
import { Hono } from 'hono'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { readQuery } from './query'
import { AgentListQuery, listAgents } from '../../db/queries/agents'
import { livenessFrom } from '../../db/queries/liveness'
import { fleetTotals } from '../../db/queries/overview'
import { Empty, Filters, Pager, Panel, pct, Stat } from '../ui/bits'
import { Shell } from '../ui/layout'
import { portalClient, viewerOf } from './context'
import { SavingsStats, SwitchesStat } from './fleet-stats'
import { AgentStatusSelect, AgentTable } from './tables'
import { clock } from '../../clock'

export const portalFleet = new Hono<AppEnv>()

portalFleet.get('/', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const t = await fleetTotals(database(c.env.DB), client.id, clock.now())
  const base = `/c/${client.id}`
  return c.html(
    <Shell title={`${client.name}: overview`} viewer={viewer} active={base} client={client}>
      <div class="cards">
        <SavingsStats totals={t} noDayYet="no usage recorded yet" shareWording="below on-demand" />
        <Stat
          label="Agents online"
          value={`${t.agentsOnline} / ${t.agentsTotal}`}
          sub={`${t.agentsOffline} offline`}
        />
        <Stat
          label="On spot"
          value={`${t.instancesSpot} / ${t.instancesSpot + t.instancesOnDemand}`}
          sub={`coverage (30 d) ${pct(t.spotCoverage)}`}
        />
        <SwitchesStat totals={t} />
      </div>
      {t.agentsTotal === 0 ? (
        <Empty>
          No agent yet. <a href={`${base}/install`}>Install the agent</a> on an EC2 instance: it registers
          itself and appears here within a minute.
        </Empty>
      ) : (
        <Panel title="Next">
          <p style="margin:0">
            See <a href={`${base}/instances`}>instances</a> for prices and one-click switches,{' '}
            <a href={`${base}/decisions`}>decisions</a> for what the engine would do, and{' '}
            <a href={`${base}/savings`}>savings</a> for the ledger.
          </p>
        </Panel>
      )}
    </Shell>,
  )
})

portalFleet.get('/agents', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const q = readQuery(c, AgentListQuery)
  const page = await listAgents(database(c.env.DB), livenessFrom(c.env), client.id, q)
  return c.html(
    <Shell title="Agents" viewer={viewer} active={`/c/${client.id}/agents`} client={client}>
      <Panel>
        <Filters search={q.search} placeholder="Search agent, host or instance">
          <AgentStatusSelect status={q.status} withDeleted />
        </Filters>
        {page.items.length === 0 ? (
          <Empty>
            {q.search || q.status ? (
              'No agent matches.'
            ) : (
              <>
                No agent yet: <a href={`/c/${client.id}/install`}>install one</a>.
              </>
            )}
          </Empty>
        ) : (
          <AgentTable rows={page.items} />
        )}
        <Pager url={c.req.url} page={page.page} limit={page.limit} total={page.total} />
      </Panel>
    </Shell>,
  )
})

portalFleet.get('/install', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const server = new URL(c.req.url).origin
  return c.html(
    <Shell title="Install the agent" viewer={viewer} active={`/c/${client.id}/install`} client={client}>
      <Panel title="One command on the EC2 instance">
        <p>
          Run as root on the instance (Amazon Linux, Ubuntu or Debian with Node.js 20). The instance profile
          needs the EC2 permissions listed in the README.
        </p>
        <div
          class="secret"
          id="install-command"
        >{`curl -fsSL ${server}/agent/install.sh | sudo bash -s -- --server ${server} --token <token>`}</div>
        <p class="muted">
          Replace <code>&lt;token&gt;</code> with your client token. It was shown once when your account was
          created; an admin can rotate it (the old token keeps working during a grace period).
        </p>
      </Panel>
    </Shell>,
  )
})
