/** Client portal: replicas (status, sync, cost; promote, terminate) and notifications (per-user read state). */
import { Hono } from 'hono'
import { requirePerson } from '../../auth/middleware'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { listNotifications, readerId } from '../../db/queries/notifications'
import { clientReplicas } from '../../db/queries/history'
import { Badge, Empty, Panel, perHour, Time, usd } from '../ui/bits'
import { ApiForm } from '../ui/forms'
import { Shell } from '../ui/layout'
import { Table } from '../ui/table'
import { portalClient, viewerOf } from './context'

export const portalActivity = new Hono<AppEnv>()

portalActivity.get('/replicas', async (c) => {
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
          <Table
            id="replicas"
            columns={['Replica', 'Type', 'Status', 'Sync', 'Pool', ['Cost', 'num'], 'Created', '']}
          >
            {rows.map((r) => (
              <tr>
                <td>
                  <code>{r.instanceId ?? 'launching…'}</code>
                  <div class="muted" style="font-size:12px">
                    for <a href={`/c/${client.id}/agents/${r.agentId}`}>{r.parentInstanceId ?? r.agentId}</a>
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
                  {viewer.role !== 'viewer' &&
                  ['launching', 'syncing', 'ready', 'terminating'].includes(r.status) ? (
                    <div style="display:flex;gap:6px">
                      {r.status === 'ready' || r.status === 'syncing' ? (
                        <ApiForm
                          api={`/api/client/agents/${r.agentId}/replicas/${r.id}/promote`}
                          confirm="Promote this replica to primary?"
                          csrf={viewer.csrfToken}
                          submit="Promote"
                        />
                      ) : null}
                      {r.status !== 'terminating' && (r.agentCanTerminate || !r.instanceId) ? (
                        <ApiForm
                          api={`/api/client/agents/${r.agentId}/replicas/${r.id}`}
                          method="DELETE"
                          confirm="Terminate this replica and its instance?"
                          csrf={viewer.csrfToken}
                          tone="danger"
                          submit="Terminate"
                        />
                      ) : (
                        <ApiForm
                          api={`/api/client/agents/${r.agentId}/replicas/${r.id}?terminated_in_ec2=1`}
                          method="DELETE"
                          confirm={`${r.agentCanTerminate ? '' : 'Its agent cannot terminate an instance. '}Did you terminate ${r.instanceId} in EC2? SpotGuard stops counting it.`}
                          csrf={viewer.csrfToken}
                          tone="danger"
                          submit="Terminated in EC2"
                        />
                      )}
                    </div>
                  ) : null}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Panel>
    </Shell>,
  )
})

portalActivity.get('/notifications', async (c) => {
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
      actions={<ApiForm api={markAll} csrf={viewer.csrfToken} submit="Mark all read" />}
    >
      <Panel>
        {rows.length === 0 ? (
          <Empty>
            No notification yet. Agents going offline, interruptions, switches and replicas are reported here
            (and to your webhook).
          </Empty>
        ) : (
          <Table id="notifications" columns={['When', 'Severity', 'Message', '']}>
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
                    <ApiForm
                      api={`/api/notifications/${n.id}/mark-read`}
                      csrf={viewer.csrfToken}
                      submit="Read"
                    />
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Panel>
    </Shell>,
  )
})
