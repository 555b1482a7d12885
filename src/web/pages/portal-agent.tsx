/** Client portal: one agent (status, settings and thresholds, standby replica, decisions, disable, delete). */
import { Hono } from 'hono'
import { configFor } from '../../agents/config'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { agentDetail, agentInScope } from '../queries/agents'
import { decisionTimeline } from '../queries/history'
import { Badge, Csrf, Panel, Stat, Time } from '../ui/bits'
import { Shell } from '../ui/layout'
import { canWrite, portalClient, viewerOf } from './context'
import { DecisionList } from './decision-list'

export const portalAgent = new Hono<AppEnv>()

portalAgent.get('/agents/:agentId', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const db = database(c.env.DB)
  const [row, agent] = await Promise.all([
    agentDetail(db, client.id, c.req.param('agentId')),
    agentInScope(db, client.id, c.req.param('agentId')),
  ])
  const effective = await configFor(db, agent)
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
                placeholder={`inherits ${effective.min_savings_percent}`}
                value={agent.minSavingsPercent === null ? '' : String(agent.minSavingsPercent)}
              />
              <label>Risk threshold (0–1)</label>
              <input
                type="number"
                step="0.01"
                name="riskThreshold"
                placeholder={`inherits ${effective.risk_threshold}`}
                value={agent.riskThreshold === null ? '' : String(agent.riskThreshold)}
              />
              <label>Max switches per day / week</label>
              <div style="display:flex;gap:6px">
                <input
                  type="number"
                  name="maxSwitchesPerDay"
                  placeholder={`inherits ${effective.max_switches_per_day}`}
                  value={agent.maxSwitchesPerDay === null ? '' : String(agent.maxSwitchesPerDay)}
                />
                <input
                  type="number"
                  name="maxSwitchesPerWeek"
                  placeholder={`inherits ${effective.max_switches_per_week}`}
                  value={agent.maxSwitchesPerWeek === null ? '' : String(agent.maxSwitchesPerWeek)}
                />
              </div>
              <label>Minimum hours in a pool</label>
              <input
                type="number"
                step="0.5"
                name="minPoolDurationHours"
                placeholder={`inherits ${effective.min_pool_duration_hours}`}
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
