/** The switch history table (time, old → new, modes, pools, trigger, price, savings effect, downtime). */
import type { switchHistory } from '../../db/queries/history'
import { Badge, Empty, perHour, Time } from '../ui/bits'
import { Table } from '../ui/table'

type Row = Awaited<ReturnType<typeof switchHistory>>[number]

export function SwitchTable(props: { rows: Row[] }) {
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
            <Time ms={s.timestamp} />
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
