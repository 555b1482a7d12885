/** A stateful switch as the dashboard shows it: the data loss bound, the address change, the timed steps. */
import type { StatefulDetail } from '../../db/schema'
import { Empty, Time } from '../ui/bits'
import { Table } from '../ui/table'

/** "no loss", "up to N min of writes lost" (rounded up), or "loss not known". */
export function dataLossWords(seconds: number | null): string {
  if (seconds === null) return 'loss not known'
  if (seconds === 0) return 'no loss'
  return `up to ${Math.ceil(seconds / 60)} min of writes lost`
}

/** The private address before → after, and whether it changed (a switch across AZs). */
export function AddressChange(props: { old: string | null; new: string | null; changed: boolean | null }) {
  if (props.old === null && props.new === null) return <span class="muted">no managed interface</span>
  return (
    <span>
      <code>{props.old ?? '?'}</code> → <code>{props.new ?? '?'}</code>{' '}
      {props.changed ? <strong class="neg">address changed</strong> : <span class="pos">address kept</span>}
      {props.changed ? (
        <span class="muted" style="display:block">
          The workload moved to another AZ: its interface there is new, so whatever reached it at{' '}
          <code>{props.old ?? '?'}</code> must now use <code>{props.new ?? '?'}</code>.
        </span>
      ) : null}
    </span>
  )
}

/** Each step with its start (agent clock), duration and outcome, then the volumes' moves. */
export function StatefulSteps(props: { detail: StatefulDetail }) {
  const { steps, volumes } = props.detail
  return (
    <>
      {steps.length === 0 ? (
        <Empty>The agent reported no step.</Empty>
      ) : (
        <Table id="switch-steps" columns={['Step', 'Started', ['Took', 'num'], 'Outcome']}>
          {steps.map((s) => (
            <tr data-step={s.name}>
              <td>
                <code>{s.name}</code>
              </td>
              <td>
                <Time ms={s.startedAt} />
              </td>
              <td class="num">{`${(s.ms / 1000).toFixed(1)} s`}</td>
              <td class={s.ok ? 'pos' : 'neg'}>
                {s.ok ? 'ok' : 'failed'}
                {s.detail ? (
                  <div class="muted" style="font-size:12px;white-space:pre-wrap">
                    {s.detail}
                  </div>
                ) : null}
              </td>
            </tr>
          ))}
        </Table>
      )}
      {volumes.length === 0 ? null : (
        <Table id="switch-volumes" columns={['Device', 'Old volume', 'New volume', 'How']}>
          {volumes.map((v) => (
            <tr>
              <td>
                <code>{v.device}</code>
              </td>
              <td>
                <code>{v.oldVolumeId}</code>
              </td>
              <td>
                <code>{v.newVolumeId}</code>
              </td>
              <td>{v.how.replaceAll('_', ' ')}</td>
            </tr>
          ))}
        </Table>
      )}
    </>
  )
}
