/** Client portal: replicas, decisions, savings, switch history, notifications. */
import { eq } from 'drizzle-orm'
import { Hono } from 'hono'
import { readerId, listNotifications } from '../../routes/client/notifications'
import { requirePerson } from '../../auth'
import { database } from '../../db/client'
import { agents } from '../../db/schema'
import type { AppEnv } from '../../env'
import { clientReplicas, decisionTimeline, switchHistory } from '../queries/history'
import { isoDay } from '../queries/instance-detail'
import { poolTotals } from '../../ledger/breakdown'
import { monthBounds } from '../../ledger/summary'
import { monthlySavings, savingsByAgent, savingsSummary } from '../queries/savings'
import { Badge, Csrf, Empty, Panel, pct, perHour, Stat, Time, usd } from '../ui/bits'
import { SavingsChart } from '../ui/charts'
import { Shell } from '../ui/layout'
import { portalClient, viewerOf } from './context'
import { DecisionList } from './decision-list'
import { SwitchTable } from './switch-table'

export const portalHistory = new Hono<AppEnv>()

portalHistory.get('/replicas', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const rows = await clientReplicas(database(c.env.DB), client.id, c.req.query('all') === '1')
  return c.html(
    <Shell title="Replicas" viewer={viewer} active={`/c/${client.id}/replicas`} client={client}>
      <Panel
        title={
          <>
            Replicas{' '}
            <a href="?all=1" style="font-size:13px;font-weight:400;margin-left:8px">
              include ended
            </a>
          </>
        }
      >
        {rows.length === 0 ? (
          <Empty>
            No active replica. Turn on "manual standby replica" in an agent's settings to keep one ready, or
            let auto-switch create emergency replicas on rebalance signals.
          </Empty>
        ) : (
          <div class="tablewrap">
            <table id="replicas">
              <thead>
                <tr>
                  <th>Replica</th>
                  <th>Type</th>
                  <th>Status</th>
                  <th>Sync</th>
                  <th>Pool</th>
                  <th class="num">Cost</th>
                  <th>Created</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr>
                    <td>
                      <code>{r.instanceId ?? 'launching…'}</code>
                      <div class="muted" style="font-size:12px">
                        for{' '}
                        <a href={`/c/${client.id}/agents/${r.agentId}`}>{r.parentInstanceId ?? r.agentId}</a>
                      </div>
                    </td>
                    <td>{r.replicaType}</td>
                    <td>
                      <Badge value={r.status} />
                      {r.errorMessage ? (
                        <div class="neg" style="font-size:12px">
                          {r.errorMessage}
                        </div>
                      ) : null}
                    </td>
                    <td>
                      {r.syncStatus ?? '—'}
                      {r.stateTransferProgress !== null ? ` ${Math.round(r.stateTransferProgress)} %` : ''}
                      {r.syncLatencyMs !== null ? (
                        <div class="muted" style="font-size:12px">
                          {r.syncLatencyMs} ms lag
                        </div>
                      ) : null}
                    </td>
                    <td>
                      <code>{r.poolId}</code>
                    </td>
                    <td class="num">
                      {perHour(r.hourlyCost)}
                      <div class="muted" style="font-size:12px">
                        {usd(r.totalCost)} so far
                      </div>
                    </td>
                    <td>
                      <Time ms={r.createdAt} />
                    </td>
                    <td>
                      {viewer.role !== 'viewer' && ['launching', 'syncing', 'ready'].includes(r.status) ? (
                        <div style="display:flex;gap:6px">
                          {r.status === 'ready' || r.status === 'syncing' ? (
                            <form
                              data-api={`/api/client/agents/${r.agentId}/replicas/${r.id}/promote`}
                              data-confirm="Promote this replica to primary?"
                            >
                              <Csrf token={viewer.csrfToken} />
                              <button type="submit">Promote</button>
                            </form>
                          ) : null}
                          <form
                            data-api={`/api/client/agents/${r.agentId}/replicas/${r.id}`}
                            data-method="DELETE"
                            data-confirm="Terminate this replica and its instance?"
                          >
                            <Csrf token={viewer.csrfToken} />
                            <button class="danger" type="submit">
                              Terminate
                            </button>
                            <span class="msg" />
                          </form>
                        </div>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </Shell>,
  )
})

portalHistory.get('/decisions', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const db = database(c.env.DB)
  const [rows, agentRows] = await Promise.all([
    decisionTimeline(db, client.id, { from: Date.now() - 7 * 86_400_000, limit: 200 }),
    db
      .select({ id: agents.id, instanceId: agents.instanceId })
      .from(agents)
      .where(eq(agents.clientId, client.id)),
  ])
  return c.html(
    <Shell
      title="Engine decisions (7 days)"
      viewer={viewer}
      active={`/c/${client.id}/decisions`}
      client={client}
    >
      <Panel>
        <DecisionList
          rows={rows}
          clientId={client.id}
          viewer={viewer}
          instanceOf={new Map(agentRows.map((a) => [a.id, a.instanceId]))}
        />
      </Panel>
    </Shell>,
  )
})

portalHistory.get('/savings', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const db = database(c.env.DB)
  const now = Date.now()
  const [summary, months, byAgent, byPool] = await Promise.all([
    savingsSummary(db, client.id, now),
    monthlySavings(db, client.id),
    savingsByAgent(db, client.id, isoDay(now).slice(0, 8) + '01'),
    poolTotals(db, client.id, monthBounds(now)[0], now),
  ])
  return c.html(
    <Shell
      title="Savings"
      viewer={viewer}
      active={`/c/${client.id}/savings`}
      client={client}
      actions={
        <a class="btn" href={`/api/client/${client.id}/export/savings.csv`} id="export-savings">
          Export CSV
        </a>
      }
    >
      <div class="cards" id="savings-cards">
        <Stat label="Month to date" value={<span id="savings-mtd">{usd(summary.monthToDate)}</span>} />
        <Stat
          label="Projected month"
          value={<span id="savings-projected">{usd(summary.projectedMonth)}</span>}
        />
        <Stat
          label="Lifetime"
          value={<span id="savings-lifetime">{usd(summary.lifetime)}</span>}
          sub={summary.percentSaved === null ? '' : `${pct(summary.percentSaved)} below on-demand`}
        />
      </div>
      <Panel title="Per month: baseline vs actual">
        {months.length === 0 ? (
          <Empty>
            The ledger has no day yet. Savings appear after the first hourly rollup of a running agent.
          </Empty>
        ) : (
          <SavingsChart months={months} />
        )}
      </Panel>
      <Panel title="Per agent, this month">
        {byAgent.length === 0 ? (
          <Empty>No savings recorded this month yet.</Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Agent</th>
                <th class="num">Baseline</th>
                <th class="num">Replica cost</th>
                <th class="num">Saved</th>
              </tr>
            </thead>
            <tbody>
              {byAgent.map((a) => (
                <tr>
                  <td>
                    <a href={`/c/${client.id}/agents/${a.agentId}`}>{a.logicalAgentId ?? a.agentId}</a>
                  </td>
                  <td class="num">{usd(a.baseline)}</td>
                  <td class="num">{usd(a.replicaCost)}</td>
                  <td class="num">{usd(a.savings)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
      <Panel title="Per pool, this month">
        {byPool.length === 0 ? (
          <Empty>No usage recorded this month yet.</Empty>
        ) : (
          <table id="savings-pools">
            <thead>
              <tr>
                <th>Pool</th>
                <th>Role</th>
                <th class="num">Hours</th>
                <th class="num">Cost</th>
                <th class="num">On-demand cost</th>
                <th class="num">Saved</th>
              </tr>
            </thead>
            <tbody>
              {byPool.map((p) => (
                <tr>
                  <td>
                    <code>{p.pool_id ?? 'on-demand'}</code>
                  </td>
                  <td>{p.role}</td>
                  <td class="num">{p.hours.toFixed(1)}</td>
                  <td class="num">{usd(p.cost)}</td>
                  <td class="num">{p.role === 'primary' ? usd(p.ondemand_cost) : '—'}</td>
                  <td class="num">{p.role === 'primary' ? usd(p.savings) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
    </Shell>,
  )
})

portalHistory.get('/switches', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const page = Math.max(1, Number(c.req.query('page')) || 1)
  const rows = await switchHistory(database(c.env.DB), client.id, { limit: 50, offset: (page - 1) * 50 })
  return c.html(
    <Shell
      title="Switch history"
      viewer={viewer}
      active={`/c/${client.id}/switches`}
      client={client}
      actions={
        <a class="btn" href={`/api/client/${client.id}/export/switches.csv`} id="export-switches">
          Export CSV
        </a>
      }
    >
      <Panel>
        <SwitchTable rows={rows} />
        <div class="pager">
          {page > 1 ? <a href={`?page=${page - 1}`}>← Newer</a> : null}
          {rows.length === 50 ? <a href={`?page=${page + 1}`}>Older →</a> : null}
        </div>
      </Panel>
    </Shell>,
  )
})

portalHistory.get('/notifications', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const rows = await listNotifications(database(c.env.DB), client.id, readerId(requirePerson(c)), 100, false)
  const markAll = `/api/notifications/mark-all-read${viewer.isAdmin ? `?client_id=${client.id}` : ''}`
  return c.html(
    <Shell
      title="Notifications"
      viewer={viewer}
      active={`/c/${client.id}/notifications`}
      client={client}
      actions={
        <form data-api={markAll}>
          <Csrf token={viewer.csrfToken} />
          <button type="submit">Mark all read</button>
        </form>
      }
    >
      <Panel>
        {rows.length === 0 ? (
          <Empty>
            No notification yet. Agents going offline, interruptions, switches and replicas are reported here
            (and to your webhook).
          </Empty>
        ) : (
          <div class="tablewrap">
            <table id="notifications">
              <thead>
                <tr>
                  <th>When</th>
                  <th>Severity</th>
                  <th>Message</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {rows.map((n) => (
                  <tr style={n.isRead ? 'opacity:.6' : 'font-weight:600'}>
                    <td>
                      <Time ms={n.createdAt} />
                    </td>
                    <td>
                      <Badge value={n.severity} />
                    </td>
                    <td>{n.message}</td>
                    <td>
                      {n.isRead ? null : (
                        <form data-api={`/api/notifications/${n.id}/mark-read`}>
                          <Csrf token={viewer.csrfToken} />
                          <button type="submit">Read</button>
                        </form>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </Shell>,
  )
})
