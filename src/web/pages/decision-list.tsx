/** The engine's decisions as a timeline: what, why, what blocked it, and "apply" for a suggestion. */
import type { decisions } from '../../db/schema'
import { Badge, Empty, perHour, Time } from '../ui/bits'
import type { Viewer } from '../ui/layout'
import { Table } from '../ui/table'
import { ForceSwitchForm } from './force-switch'

type Decision = typeof decisions.$inferSelect

const LABEL: Record<Decision['decision'], string> = {
  stay: 'Stay',
  switch_pool: 'Switch pool',
  to_spot: 'Move to spot',
  to_ondemand: 'Move to on-demand',
}

/** Why the engine wanted its target, in words (a blocked move keeps its reason). */
const REASON_LABEL: Record<NonNullable<Decision['reasonCode']>, string> = {
  back_to_spot: 'back to spot',
  risky_pool: 'leaving a risky pool',
  better_value: 'better value',
}

function asList(value: unknown): string[] {
  return Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) : []
}

/** A suggestion the person can apply: a move the engine did not turn into a command. */
function isSuggestion(d: Decision): boolean {
  return d.decision !== 'stay' && !d.commandId && !d.shadow
}

export function DecisionList(props: {
  rows: Decision[]
  clientId: string
  viewer: Viewer
  instanceOf?: Map<string, string | null>
}) {
  if (props.rows.length === 0) {
    return (
      <Empty>
        No decision recorded yet. The engine runs every 5 minutes and after each price report; it stores a
        decision when it changes.
      </Empty>
    )
  }
  return (
    <Table
      id="decisions"
      columns={[
        'When',
        'Decision',
        'Target',
        ['Expected saving', 'num'],
        ['Risk', 'num'],
        'Reasons',
        'Blocked by',
        '',
      ]}
    >
      {props.rows.map((d) => {
        const instanceId = props.instanceOf?.get(d.agentId) ?? null
        const target = d.decision === 'to_ondemand' ? 'ondemand' : 'pool'
        return (
          <tr>
            <td>
              <Time ms={d.createdAt} />
              {d.repeatCount > 1 ? (
                <div class="muted" style="font-size:12px">
                  seen {d.repeatCount}× until <Time ms={d.lastSeenAt} />
                </div>
              ) : null}
            </td>
            <td>
              <Badge value={d.decision === 'stay' ? 'stay' : 'spot'} /> {LABEL[d.decision]}
              {d.shadow ? <span class="badge warn">shadow</span> : null}
              {d.reasonCode === 'back_to_spot' ? <span class="badge spot">back to spot</span> : null}
              <div class="muted" style="font-size:12px">
                {d.reasonCode ? `${REASON_LABEL[d.reasonCode]} · ` : ''}params v{d.paramsVersion}
              </div>
            </td>
            <td>
              <code>{d.targetPoolId ?? d.targetMode ?? '—'}</code>
            </td>
            <td class="num">{perHour(d.expectedSavingsPerHour)}</td>
            <td class="num">{d.risk === null ? '—' : d.risk.toFixed(2)}</td>
            <td style="font-size:13px">{asList(d.reasons).join('; ') || '—'}</td>
            <td style="font-size:13px">{asList(d.blockedBy).join('; ') || '—'}</td>
            <td>
              {d.commandId ? (
                <span class="muted" style="font-size:12px">
                  applied
                </span>
              ) : null}
              {isSuggestion(d) && instanceId && props.viewer.role !== 'viewer' ? (
                <ForceSwitchForm
                  instanceId={instanceId}
                  target={target}
                  poolId={d.targetPoolId}
                  progressId={`apply-${d.id}`}
                  csrf={props.viewer.csrfToken}
                  submit="Apply"
                />
              ) : null}
            </td>
          </tr>
        )
      })}
    </Table>
  )
}
