/**
 * The switch history table (time, old → new, modes, pools, trigger, price, savings effect, downtime; a
 * stateful switch's data loss bound).
 */
import type { switchHistory } from '../../db/queries/history'
import { Badge, Empty, perHour, Time } from '../ui/bits'
import { Table } from '../ui/table'
import { dataLossWords } from './stateful-switch'

type Row = Awaited<ReturnType<typeof switchHistory>>[number]

/** `clientId`: the portal the rows link from (each row's time opens its switch's page). */
export function SwitchTable(props: { rows: Row[]; clientId: string }) {
  if (props.rows.length === 0)
    return <Empty>No switch yet. Switch from an instance page, or turn on auto-switch for an agent.</Empty>
  return (
    <Table
      id="switches"
      columns={[
        'When',
        'Instance',
        'Mode',
        'Pool',
        'Trigger',
        ['New price', 'num'],
        ['Effect', 'num'],
        ['Downtime', 'num'],
      ]}
    >
      {props.rows.map((s) => (
        <tr>
          <td>
            <a href={`/c/${props.clientId}/switches/${s.id}`}>
              <Time ms={s.timestamp} />
            </a>
          </td>
          <td>
            <code>{s.oldInstanceId ?? '?'}</code> → <code>{s.newInstanceId ?? '?'}</code>
          </td>
          <td>
            <Badge value={s.fromMode} /> → <Badge value={s.toMode} />
          </td>
          <td style="font-size:12px">
            <code>{s.fromPool ?? '—'}</code> → <code>{s.toPool ?? '—'}</code>
          </td>
          <td title={s.errorMessage ?? undefined}>
            {s.trigger}
            {s.undoneAt !== null && ' (undone: the agent refused it)'}
            {s.stateful ? (
              <div class="muted" style="font-size:12px">
                stateful: {dataLossWords(s.dataLossBoundSeconds)}
                {s.addressChanged ? ', address changed' : ''}
              </div>
            ) : null}
          </td>
          <td class="num">{perHour(s.price)}</td>
          <td class={`num ${s.savingsImpact !== null && s.savingsImpact >= 0 ? 'pos' : 'neg'}`}>
            {s.savingsImpact === null
              ? '—'
              : `${s.savingsImpact >= 0 ? '−' : '+'}${perHour(Math.abs(s.savingsImpact))}`}
          </td>
          <td class="num">{s.downtimeMs === null ? '—' : `${(s.downtimeMs / 1000).toFixed(1)} s`}</td>
        </tr>
      ))}
    </Table>
  )
}
