/**
 * Client portal (and the admin's view of it): one agent (status, settings and thresholds, standby
 * replica, decisions, stateful workload, backup image, cleanup reports, disable, delete).
 */
import { Hono } from 'hono'
import { configFor } from '../../db/queries/agent-config'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { agentDetail, agentInScope } from '../../db/queries/agents'
import { livenessFrom } from '../../db/queries/liveness'
import { decisionTimeline } from '../../db/queries/history'
import { placementScoreStatusOf } from '../../db/queries/capacity'
import { Badge, Csrf, Panel, Stat, Time } from '../ui/bits'
import { ApiForm } from '../ui/forms'
import { Shell } from '../ui/layout'
import { canWrite, portalClient, viewerOf } from './context'
import { DecisionList } from './decision-list'
import { clock } from '../../clock'
import { found } from '../../errors'
import { AllowListField } from './allow-list-field'
import { cleanupReportsOf } from '../../db/queries/cleanup-reports'
import * as z from 'zod'
import { BackupImagePanel, CleanupReportsPanel } from './agent-upkeep'
import { readQuery } from './query'
import { snapshotFreshness, workloadOf } from '../../db/queries/workload'
import { StatefulSettingsFields, WorkloadPanel } from './agent-workload'

/** The cleanup reports' page (ten a page: an hourly report a row). */
const AgentPageQuery = z.object({ page: z.coerce.number().int().min(1).max(100_000).default(1) })
const REPORTS_PER_PAGE = 10

export const portalAgent = new Hono<AppEnv>()

portalAgent.get('/agents/:agentId', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const { page } = readQuery(c, AgentPageQuery)
  const db = database(c.env.DB)
  const [detail, inScope] = await Promise.all([
    agentDetail(db, livenessFrom(c.env), client.id, c.req.param('agentId')),
    agentInScope(db, client.id, c.req.param('agentId')),
  ])
  const row = found(detail, 'agent not found')
  const agent = found(inScope, 'agent not found')
  const [effective, scores, decisions, reports, workload] = await Promise.all([
    configFor(db, agent),
    placementScoreStatusOf(db, client.id, agent.id),
    decisionTimeline(db, client.id, {
      agentIds: [agent.id],
      from: clock.now() - 7 * 86_400_000,
      limit: 20,
    }),
    cleanupReportsOf(db, { clientId: client.id, agentId: agent.id }, { page, limit: REPORTS_PER_PAGE }),
    workloadOf(db, { clientId: client.id, agentId: agent.id }),
  ])
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
          value={<Badge value={agent.enabled ? row.status : 'disabled'} />}
          sub={
            <>
              heartbeat <Time ms={row.lastHeartbeatAt} />
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
          sub={`${legacy ? 'legacy agent' : 'push socket'}, ${agent.identity}`}
        />
      </div>
      {legacy ? (
        <div class="note warn">
          This is a legacy agent (before 5.0). Its switch launches from the original AMI (data on disk is
          lost) and may terminate its host before reporting; the engine never switches it automatically unless
          you opt in below.
        </div>
      ) : null}
      {scores && scores.status !== 'ok' ? (
        <div class="note warn" id="placement-scores">
          {scores.status === 'denied'
            ? 'Capacity: the instance profile of this agent lacks ec2:GetSpotPlacementScores'
            : 'Capacity: the AWS account used its 10 placement-score configurations of the day'}{' '}
          (said <Time ms={scores.updatedAt} />
          ): the engine weighs its pools by interruption history alone until the agent asks again (after a
          day).
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
              {legacy ? null : (
                <>
                  <label for="bih">Backup image every (hours; 0 turns it off)</label>
                  <input
                    id="bih"
                    type="number"
                    name="backupImageHours"
                    min={0}
                    max={720}
                    value={String(agent.backupImageHours)}
                  />
                </>
              )}
              {legacy ? null : <StatefulSettingsFields agent={agent} />}
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
              <ThresholdInput
                name="minSavingsPercent"
                step="0.1"
                inherits={effective.min_savings_percent}
                value={agent.minSavingsPercent}
              />
              <label>Risk threshold (0–1)</label>
              <ThresholdInput
                name="riskThreshold"
                step="0.01"
                inherits={effective.risk_threshold}
                value={agent.riskThreshold}
              />
              <label>Max switches per day / week</label>
              <div style="display:flex;gap:6px">
                <ThresholdInput
                  name="maxSwitchesPerDay"
                  inherits={effective.max_switches_per_day}
                  value={agent.maxSwitchesPerDay}
                />
                <ThresholdInput
                  name="maxSwitchesPerWeek"
                  inherits={effective.max_switches_per_week}
                  value={agent.maxSwitchesPerWeek}
                />
              </div>
              <label>Minimum hours in a pool</label>
              <ThresholdInput
                name="minPoolDurationHours"
                step="0.5"
                inherits={effective.min_pool_duration_hours}
                value={agent.minPoolDurationHours}
              />
            </div>
          </div>
          <AllowListField agent={agent} instanceType={row.instanceType} legacy={legacy} />
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
          <ApiForm
            class="inline"
            api={`/api/client/agents/${agent.id}/replicas`}
            redirect={`/c/${client.id}/replicas`}
            csrf={viewer.csrfToken}
            submit="Create standby replica"
          >
            <input name="poolId" placeholder="Pool (empty: safest cheap pool)" data-null />
          </ApiForm>
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
      {agent.stateful || workload.volumes.length > 0 || workload.interface ? (
        <WorkloadPanel
          agent={agent}
          workload={workload}
          freshness={snapshotFreshness(workload.newestSnapshot, agent.rpoMinutes, clock.now())}
        />
      ) : null}
      <BackupImagePanel agent={agent} legacy={legacy} />
      <CleanupReportsPanel reports={reports} url={c.req.url} />
      {writable ? (
        <Panel title="Danger zone">
          <div style="display:flex;gap:8px;flex-wrap:wrap">
            <ApiForm
              api={`/api/client/agents/${agent.id}/toggle-enabled`}
              csrf={viewer.csrfToken}
              buttonId="toggle-enabled"
              submit={agent.enabled ? 'Disable agent' : 'Enable agent'}
            >
              <input type="hidden" name="enabled" value={agent.enabled ? '' : 'true'} data-bool />
            </ApiForm>
            <ApiForm
              api={`/api/client/agents/${agent.id}`}
              method="DELETE"
              confirm="Delete this agent? It receives an uninstall command and stops reporting."
              redirect={`/c/${client.id}/agents`}
              csrf={viewer.csrfToken}
              tone="danger"
              submit="Delete agent"
            />
          </div>
        </Panel>
      ) : null}
    </Shell>,
  )
})

/** A per-agent threshold: empty (null) inherits the engine's value, shown as the placeholder. */
function ThresholdInput(props: { name: string; step?: string; inherits: number; value: number | null }) {
  return (
    <input
      type="number"
      step={props.step}
      name={props.name}
      placeholder={`inherits ${props.inherits}`}
      value={props.value === null ? '' : String(props.value)}
    />
  )
}
