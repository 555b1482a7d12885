/** The instance page's options: each instance type × AZ with its prices, risk and why it is or isn't chosen. */
import type { Workload } from '../../engine/compatibility'
import { optionWords } from '../../engine/option-words'
import type { DecisionSeen, OptionRow } from '../../engine/placement-options'
import { isLegacyAgent } from '../../protocol'
import { Empty, Pager, perHour, Time } from '../ui/bits'
import { Table } from '../ui/table'

/** Rows per page of the options table. */
export const OPTIONS_PER_PAGE = 25

/** What the decision says of on-demand, which has no row. */
function onDemandWords(decision: DecisionSeen): string {
  if (decision.targetMode !== 'ondemand') return ''
  return decision.decision === 'stay'
    ? ': on-demand is its best alternative, not taken'
    : ': its pick is on-demand'
}

/** Which rule picks the types, and what the latest decision was (its pick may be on-demand, no row's). */
export function OptionsNote(props: {
  workload: Workload
  decision: DecisionSeen | null
  agentVersion: string | null
}) {
  const { workload, decision } = props
  const rule = isLegacyAgent(props.agentVersion)
    ? `${workload.baseType} only (a legacy agent, before 5.0, launches only its own type)`
    : workload.allowedTypes
      ? `the allow-list (${workload.allowedTypes.join(', ')}; ${workload.baseType} always)`
      : `the default rule: as ${workload.baseType} or larger, same architecture, same or newer generation`
  return (
    <div class="note" id="options-note">
      Types the workload may run on: {rule}. Prices as you see them now; risk and the engine's view as of its
      latest decision{' '}
      {decision ? (
        <>
          (<Time ms={decision.at} />
          {onDemandWords(decision)})
        </>
      ) : (
        '(none yet: the engine runs every 5 minutes and after each price report)'
      )}
      .
    </div>
  )
}

/** One page of the options, with the pager (query `page`). */
export function OptionsTable(props: {
  rows: OptionRow[]
  page: number
  url: string
  agent: { workload: Workload; agentVersion: string | null }
}) {
  if (props.rows.length === 0) return <Empty>No pool of this region is known yet.</Empty>
  const shown = props.rows.slice((props.page - 1) * OPTIONS_PER_PAGE, props.page * OPTIONS_PER_PAGE)
  return (
    <>
      <Table
        id="options"
        columns={['Type', 'AZ', ['Spot', 'num'], ['On-demand', 'num'], ['Risk', 'num'], 'Why']}
      >
        {shown.map((r) => (
          <tr data-type={r.instanceType} data-az={r.az} data-why={r.why.kind}>
            <td>
              <code>{r.instanceType}</code>
            </td>
            <td>{r.az}</td>
            <td class="num">{perHour(r.spot)}</td>
            <td class="num">{perHour(r.onDemand)}</td>
            <td class="num">{r.risk === null ? '—' : r.risk.toFixed(2)}</td>
            <td>{optionWords(r, props.agent)}</td>
          </tr>
        ))}
      </Table>
      <Pager url={props.url} page={props.page} limit={OPTIONS_PER_PAGE} total={props.rows.length} />
    </>
  )
}
