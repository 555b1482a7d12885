/** The agent page's upkeep: its periodic backup AMI and the reports of its hourly cleanup. */
import type { CleanupReportRow } from '../../db/queries/cleanup-reports'
import type { PageOf } from '../../db/queries/paging'
import type { Agent } from '../../db/schema'
import { Empty, Pager, Panel, Time } from '../ui/bits'
import { Table } from '../ui/table'

/** The newest backup AMI the agent reported, and its period ("off" at 0). */
export function BackupImagePanel(props: { agent: Agent; legacy: boolean }) {
  const { agent } = props
  if (props.legacy)
    return (
      <Panel title="Backup image" id="backup-image">
        <p class="muted">Legacy agents (before 5.0) make no backup image.</p>
      </Panel>
    )
  return (
    <Panel title="Backup image" id="backup-image">
      <p>
        {agent.backupImageHours === 0 ? (
          <strong>off</strong>
        ) : (
          <>
            every <strong>{agent.backupImageHours} h</strong>
          </>
        )}
        {' · last: '}
        {agent.backupImageId ? (
          <>
            <code>{agent.backupImageId}</code> made <Time ms={agent.backupImageAt} />
          </>
        ) : (
          <span class="muted">none yet</span>
        )}
      </p>
      <p class="muted" style="font-size:13px">
        With no replica ready, an emergency launch starts from the newest SpotGuard AMI of this workload (a
        backup or a switch’s), else from the launch AMI.
      </p>
    </Panel>
  )
}

/** The latest cleanup reports, a page at a time. */
export function CleanupReportsPanel(props: { reports: PageOf<CleanupReportRow>; url: string }) {
  const { reports } = props
  return (
    <Panel title="Cleanup reports" id="cleanup-reports">
      {reports.items.length === 0 ? (
        <Empty>No cleanup report yet. The agent cleans up every hour.</Empty>
      ) : (
        <>
          <Table columns={['When', 'AMIs deleted', 'Snapshots deleted', 'Failed']}>
            {reports.items.map((r) => (
              <tr>
                <td>
                  <Time ms={r.reportedAt ?? r.receivedAt} />
                </td>
                <td>
                  <Ids ids={r.deletedAmis} total={r.amisDeleted} />
                </td>
                <td>
                  <Ids ids={r.deletedSnapshots} total={r.snapshotsDeleted} />
                </td>
                <td>
                  {r.error ? <div class="neg">{r.error}</div> : null}
                  {r.failed.map((f) => (
                    <div>
                      <code>{f.id ?? '?'}</code>: {f.error ?? 'no reason given'}
                    </div>
                  ))}
                  {r.failures > r.failed.length ? (
                    <span class="muted">+{r.failures - r.failed.length} more</span>
                  ) : null}
                  {!r.error && r.failures === 0 ? <span class="muted">none</span> : null}
                </td>
              </tr>
            ))}
          </Table>
          <Pager url={props.url} page={reports.page} limit={reports.limit} total={reports.total} />
        </>
      )}
    </Panel>
  )
}

function Ids(props: { ids: string[]; total: number }) {
  if (props.total === 0) return <span class="muted">0</span>
  return (
    <>
      {props.ids.map((id) => (
        <code style="display:block">{id}</code>
      ))}
      {props.total > props.ids.length ? (
        <span class="muted">+{props.total - props.ids.length} more</span>
      ) : null}
    </>
  )
}
