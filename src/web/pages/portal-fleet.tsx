/** Client portal: overview, agents list, one agent (settings, delete), install command. */
import { Hono } from 'hono'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { readQuery } from '../../validate'
import { agentDetail, agentInScope, AgentListQuery, listAgents } from '../queries/agents'
import { decisionTimeline } from '../queries/history'
import { fleetTotals } from '../queries/overview'
import { Badge, Csrf, Empty, Filters, Pager, Panel, pct, Select, Stat, Time, usd } from '../ui/bits'
import { Shell } from '../ui/layout'
import { canWrite, portalClient, viewerOf } from './context'
import { DecisionList } from './decision-list'
import { AgentTable } from './tables'

export const portalFleet = new Hono<AppEnv>()

portalFleet.get('/', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const t = await fleetTotals(database(c.env.DB), client.id, Date.now())
  const base = `/c/${client.id}`
  return c.html(
    <Shell title={`${client.name}: overview`} viewer={viewer} active={base} client={client}>
      <div class="cards">
        <Stat
          label="Saved this month"
          value={usd(t.savings.monthToDate)}
          sub={`projected ${usd(t.savings.projectedMonth)}`}
        />
        <Stat
          label="Saved, lifetime"
          value={usd(t.savings.lifetime)}
          sub={
            t.savings.percentSaved === null
              ? 'the ledger has no day yet'
              : `${pct(t.savings.percentSaved)} below on-demand`
          }
        />
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
        <Stat
          label="Switches"
          value={t.totalSwitches}
          sub={`${t.manualSwitches} manual · ${t.modelSwitches} engine`}
        />
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
  const page = await listAgents(database(c.env.DB), client.id, q)
  return c.html(
    <Shell title="Agents" viewer={viewer} active={`/c/${client.id}/agents`} client={client}>
      <Panel>
        <Filters search={q.search} placeholder="Search agent, host or instance">
          <Select
            name="status"
            value={q.status}
            options={[
              ['', 'Any status'],
              ['online', 'Online'],
              ['offline', 'Offline'],
              ['disabled', 'Disabled'],
              ['deleted', 'Deleted'],
            ]}
          />
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

portalFleet.get('/agents/:agentId', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const db = database(c.env.DB)
  const [row, agent] = await Promise.all([
    agentDetail(db, client.id, c.req.param('agentId')),
    agentInScope(db, client.id, c.req.param('agentId')),
  ])
  const decisions = await decisionTimeline(db, client.id, {
    agentIds: [agent.id],
    from: Date.now() - 7 * 86_400_000,
    limit: 20,
  })
  const writable = canWrite(viewer)
  const legacy = agent.agentVersion === null || Number.parseInt(agent.agentVersion, 10) < 5
  return c.html(
    <Shell
      title={`Agent ${agent.logicalAgentId}`}
      viewer={viewer}
      active={`/c/${client.id}/agents`}
      client={client}
    >
      <div class="cards">
        <Stat
          label="Status"
          value={<Badge value={agent.enabled ? agent.status : 'disabled'} />}
          sub={
            <>
              heartbeat <Time ms={agent.lastHeartbeatAt} />
            </>
          }
        />
        <Stat
          label="Instance"
          value={
            row.instanceId ? (
              <a href={`/c/${client.id}/instances/${row.instanceId}`} style="font-size:16px">
                {row.instanceId}
              </a>
            ) : (
              '—'
            )
          }
          sub={`${row.instanceType ?? ''} ${row.az ?? ''}`}
        />
        <Stat label="Mode" value={<Badge value={row.currentMode} />} sub={row.currentPoolId ?? ''} />
        <Stat
          label="Version"
          value={agent.agentVersion ?? '—'}
          sub={legacy ? 'legacy agent' : 'push socket'}
        />
      </div>
      {legacy ? (
        <div class="note warn">
          This is a legacy agent (before 5.0). Its switch launches from the original AMI (data on disk is
          lost) and may terminate its host before reporting; the engine never switches it automatically unless
          you opt in below.
        </div>
      ) : null}
      <Panel title="Settings">
        <form class="stack" data-api={`/api/client/agents/${agent.id}/config`} id="agent-settings">
          <Csrf token={viewer.csrfToken} />
          <div class="grid2">
            <div>
              <label>
                <input type="checkbox" name="autoSwitchEnabled" checked={agent.autoSwitchEnabled} />{' '}
                Auto-switch (the engine moves the instance)
              </label>
              <label>
                <input type="checkbox" name="manualReplicaEnabled" checked={agent.manualReplicaEnabled} />{' '}
                Manual standby replica (excludes auto-switch)
              </label>
              <label>
                <input type="checkbox" name="autoTerminateEnabled" checked={agent.autoTerminateEnabled} />{' '}
                Terminate the old instance after a switch
              </label>
              <label for="tw">Wait before terminating (seconds; 0 keeps it)</label>
              <input
                id="tw"
                type="number"
                name="terminateWaitSeconds"
                min={0}
                max={86400}
                value={String(agent.terminateWaitSeconds)}
              />
              {legacy ? (
                <label>
                  <input type="checkbox" name="legacyAutoSwitchOptIn" checked={agent.legacyAutoSwitchOptIn} />{' '}
                  Let the engine switch this legacy agent
                </label>
              ) : null}
            </div>
            <div>
              <p class="muted" style="margin:0 0 4px;font-size:13px">
                Thresholds (empty inherits the engine's defaults)
              </p>
              <label>Minimum savings %</label>
              <input
                type="number"
                step="0.1"
                name="minSavingsPercent"
                value={agent.minSavingsPercent === null ? '' : String(agent.minSavingsPercent)}
              />
              <label>Risk threshold (0–1)</label>
              <input
                type="number"
                step="0.01"
                name="riskThreshold"
                value={agent.riskThreshold === null ? '' : String(agent.riskThreshold)}
              />
              <label>Max switches per day / week</label>
              <div style="display:flex;gap:6px">
                <input
                  type="number"
                  name="maxSwitchesPerDay"
                  value={agent.maxSwitchesPerDay === null ? '' : String(agent.maxSwitchesPerDay)}
                />
                <input
                  type="number"
                  name="maxSwitchesPerWeek"
                  value={agent.maxSwitchesPerWeek === null ? '' : String(agent.maxSwitchesPerWeek)}
                />
              </div>
              <label>Minimum hours in a pool</label>
              <input
                type="number"
                step="0.5"
                name="minPoolDurationHours"
                value={agent.minPoolDurationHours === null ? '' : String(agent.minPoolDurationHours)}
              />
            </div>
          </div>
          {writable ? (
            <p>
              <button class="primary" type="submit">
                Save settings
              </button>
              <span class="msg" />
            </p>
          ) : (
            <p class="muted">Viewers can't change settings.</p>
          )}
        </form>
      </Panel>
      {agent.manualReplicaEnabled && writable ? (
        <Panel title="Standby replica">
          <form
            class="inline"
            data-api={`/api/client/agents/${agent.id}/replicas`}
            data-redirect={`/c/${client.id}/replicas`}
          >
            <Csrf token={viewer.csrfToken} />
            <input name="poolId" placeholder="Pool (empty: safest cheap pool)" data-null />
            <button type="submit">Create standby replica</button>
            <span class="msg" />
          </form>
        </Panel>
      ) : null}
      <Panel title="Recent decisions">
        <DecisionList
          rows={decisions}
          clientId={client.id}
          viewer={viewer}
          instanceOf={new Map([[agent.id, agent.instanceId]])}
        />
      </Panel>
      {writable ? (
        <Panel title="Danger zone">
          <div style="display:flex;gap:8px;flex-wrap:wrap">
            <form data-api={`/api/client/agents/${agent.id}/toggle-enabled`}>
              <Csrf token={viewer.csrfToken} />
              <input type="hidden" name="enabled" value={agent.enabled ? '' : 'true'} data-bool />
              <button type="submit" id="toggle-enabled">
                {agent.enabled ? 'Disable agent' : 'Enable agent'}
              </button>
              <span class="msg" />
            </form>
            <form
              data-api={`/api/client/agents/${agent.id}`}
              data-method="DELETE"
              data-confirm="Delete this agent? It receives an uninstall command and stops reporting."
              data-redirect={`/c/${client.id}/agents`}
            >
              <Csrf token={viewer.csrfToken} />
              <button class="danger" type="submit">
                Delete agent
              </button>
              <span class="msg" />
            </form>
          </div>
        </Panel>
      ) : null}
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
