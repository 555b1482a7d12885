/** Agent and instance tables shared by the admin and client pages. */
import type { AgentRow } from '../../db/queries/agents'
import type { InstanceRow } from '../../db/queries/instances'
import { Badge, pct, perHour, Select, Time } from '../ui/bits'
import { Table } from '../ui/table'

export function AgentTable(props: { rows: AgentRow[]; showClient?: boolean }) {
  return (
    <Table
      id="agents"
      columns={[
        'Agent',
        ...(props.showClient ? ['Client'] : []),
        'Status',
        'Version',
        'Mode',
        'Pool',
        'Auto-switch',
        'Last heartbeat',
      ]}
    >
      {props.rows.map((a) => (
        <tr data-agent={a.id}>
          <td>
            <a href={`/c/${a.clientId}/agents/${a.id}`}>{a.logicalAgentId}</a>
            <div class="muted" style="font-size:12px">
              {a.hostname ?? a.instanceId ?? a.id}
            </div>
          </td>
          {props.showClient ? (
            <td>
              <a href={`/c/${a.clientId}`}>{a.clientName}</a>
            </td>
          ) : null}
          <td>
            <Badge value={a.enabled ? a.status : 'disabled'} />
          </td>
          <td>
            {a.version ?? '—'}
            {a.version && Number.parseInt(a.version, 10) < 5 ? (
              <span class="badge warn" style="margin-left:4px">
                legacy
              </span>
            ) : null}
            {a.identity === 'unverified' ? (
              <span class="badge warn" style="margin-left:4px" title="registered with the client token only">
                unverified
              </span>
            ) : null}
          </td>
          <td>
            <Badge value={a.currentMode} />
          </td>
          <td>
            <code>{a.currentPoolId ?? '—'}</code>
          </td>
          <td>{a.autoSwitchEnabled ? 'on' : a.manualReplicaEnabled ? 'replica' : 'off'}</td>
          <td>
            <Time ms={a.lastHeartbeatAt} />
          </td>
        </tr>
      ))}
    </Table>
  )
}

/** The status filter of an agent list; `withDeleted` also offers deleted agents. */
export function AgentStatusSelect(props: { status?: string; withDeleted?: boolean }) {
  const options: [string, string][] = [
    ['', 'Any status'],
    ['online', 'Online'],
    ['offline', 'Offline'],
    ['disabled', 'Disabled'],
  ]
  return (
    <Select
      name="status"
      value={props.status}
      options={props.withDeleted ? [...options, ['deleted', 'Deleted']] : options}
    />
  )
}

/** The mode and status filters of an instance list. */
export function InstanceFilterSelects(props: { mode?: string; status?: string }) {
  return (
    <>
      <Select
        name="mode"
        value={props.mode}
        options={[
          ['', 'Any mode'],
          ['spot', 'Spot'],
          ['ondemand', 'On-demand'],
        ]}
      />
      <Select
        name="status"
        value={props.status}
        options={[
          ['', 'Any status'],
          ['active', 'Active'],
          ['terminating', 'Terminating'],
          ['terminated', 'Terminated'],
        ]}
      />
    </>
  )
}

export function InstanceTable(props: { rows: InstanceRow[]; showClient?: boolean }) {
  return (
    <Table
      id="instances"
      columns={[
        'Instance',
        ...(props.showClient ? ['Client'] : []),
        'Type',
        'AZ',
        'Mode',
        ['Price', 'num'],
        ['On-demand', 'num'],
        ['Saving', 'num'],
        'Status',
      ]}
    >
      {props.rows.map((i) => (
        <tr data-instance={i.instanceId}>
          <td>
            <a href={`/c/${i.clientId}/instances/${i.instanceId}`}>
              <code>{i.instanceId}</code>
            </a>
            <div class="muted" style="font-size:12px">
              {i.logicalAgentId}
            </div>
          </td>
          {props.showClient ? (
            <td>
              <a href={`/c/${i.clientId}`}>{i.clientName}</a>
            </td>
          ) : null}
          <td>{i.instanceType ?? '—'}</td>
          <td>{i.az ?? '—'}</td>
          <td>
            <Badge value={i.currentMode} />
          </td>
          <td class="num">{perHour(i.currentMode === 'spot' ? i.spotPrice : i.ondemandPrice)}</td>
          <td class="num">{perHour(i.ondemandPrice)}</td>
          <td class="num">{pct(i.savingsPercent)}</td>
          <td>
            <Badge value={i.status} />
            <div class="muted" style="font-size:12px">
              {i.status === 'terminating' ? (
                i.terminatedAt ? (
                  <>
                    ends <Time ms={i.terminatedAt} />
                  </>
                ) : (
                  // A switch's old host ending itself: its end is confirmed, not announced.
                  'being terminated'
                )
              ) : (
                <>
                  since <Time ms={i.installedAt} date />
                </>
              )}
            </div>
          </td>
        </tr>
      ))}
    </Table>
  )
}
