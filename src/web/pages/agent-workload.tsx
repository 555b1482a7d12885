/** The agent page's stateful workload: its data volumes, its private address and its newest snapshot against the RPO. */
import type { snapshotFreshness, workloadOf } from '../../db/queries/workload'
import type { Agent } from '../../db/schema'
import { Empty, Panel, Time } from '../ui/bits'
import { Table } from '../ui/table'

type Workload = Awaited<ReturnType<typeof workloadOf>>
type Snapshot = Workload['newestSnapshot']
type Freshness = ReturnType<typeof snapshotFreshness>

/** "12 min" / "3 h 5 min" / "2 d 4 h": an age for people. */
export function ageWords(seconds: number): string {
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `${hours} h ${minutes % 60} min`
  return `${Math.floor(hours / 24)} d ${hours % 24} h`
}

export function WorkloadPanel(props: { agent: Agent; workload: Workload; freshness: Freshness }) {
  const { agent, workload, freshness } = props
  return (
    <Panel title="Stateful workload" id="stateful-workload">
      <p>
        Stateful mode <strong>{agent.stateful ? 'on' : 'off'}</strong>
        {' · RPO '}
        <strong>{agent.rpoMinutes} min</strong>
        {' · private address: '}
        {workload.interface ? (
          <>
            <code id="workload-address">{workload.interface.privateIp}</code> on{' '}
            <code>{workload.interface.eniId}</code> (<code>{workload.interface.subnetId}</code>)
          </>
        ) : (
          <span class="muted">no managed interface reported</span>
        )}
      </p>
      <SnapshotAge
        newest={workload.newestSnapshot}
        freshness={freshness}
        rpoMinutes={agent.rpoMinutes}
        stateful={agent.stateful}
      />
      {workload.volumes.length === 0 ? (
        <Empty>No data volume reported.</Empty>
      ) : (
        <Table id="workload-volumes" columns={['Device', 'Volume', ['Size', 'num'], 'AZ', 'On termination']}>
          {workload.volumes.map((v) => (
            <tr>
              <td>
                <code>{v.device}</code>
              </td>
              <td>
                <code>{v.volumeId}</code>
              </td>
              <td class="num">{v.sizeGib} GiB</td>
              <td>{v.az}</td>
              <td>{v.deleteOnTermination ? 'deleted' : 'kept'}</td>
            </tr>
          ))}
        </Table>
      )}
    </Panel>
  )
}

/** The newest completed snapshot's age: a warning when older than the RPO (what an interruption now loses). */
function SnapshotAge(props: {
  newest: Snapshot
  freshness: Freshness
  rpoMinutes: number
  stateful: boolean
}) {
  const { newest, freshness } = props
  if (!newest || freshness.ageSeconds === null)
    return props.stateful ? (
      <div class="note warn" id="snapshot-age">
        No completed rolling snapshot yet: an interruption without a replica could not restore the data.
      </div>
    ) : null
  const what = (
    <>
      newest snapshot <code>{newest.snapshotId}</code> of <code>{newest.device}</code> taken{' '}
      <Time ms={newest.startedAt} /> ({ageWords(freshness.ageSeconds)} ago)
    </>
  )
  return freshness.withinRpo ? (
    <p id="snapshot-age">{what}, within the RPO.</p>
  ) : (
    <div class="note warn" id="snapshot-age">
      {what}: older than the RPO of {props.rpoMinutes} min. An interruption now could lose up to{' '}
      {ageWords(freshness.ageSeconds)} of writes.
    </div>
  )
}

/** The settings form's stateful-mode fields (5.x agents). */
export function StatefulSettingsFields(props: { agent: Agent }) {
  const { agent } = props
  return (
    <fieldset id="stateful-settings" style="border:0;padding:0;margin:8px 0 0">
      <label>
        <input type="checkbox" name="stateful" checked={agent.stateful} /> Stateful mode (data volumes,
        private address and rolling snapshots follow the workload)
      </label>
      <label for="rpo">Rolling snapshot every (minutes: the RPO, 5–1440)</label>
      <input id="rpo" type="number" name="rpoMinutes" min={5} max={1440} value={String(agent.rpoMinutes)} />
      <label for="du">systemd unit to stop cleanly before a switch (empty: none)</label>
      <input
        id="du"
        name="drainUnit"
        placeholder="e.g. postgresql.service"
        value={agent.drainUnit ?? ''}
        data-null
      />
      <label for="hts">Pre/post-switch hook timeout (seconds, 1–90)</label>
      <input
        id="hts"
        type="number"
        name="hookTimeoutSeconds"
        min={1}
        max={90}
        value={String(agent.hookTimeoutSeconds)}
      />
      <label>
        <input type="checkbox" name="drainTargetGroups" checked={agent.drainTargetGroups} /> Deregister from
        its load balancer target groups before a switch or on a notice
      </label>
    </fieldset>
  )
}
