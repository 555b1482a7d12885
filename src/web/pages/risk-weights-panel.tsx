/** The settings page's panel of the client's own risk weights (routes/client/risk-weights.ts saves it). */
import type { RiskWeights } from '../../engine/params'
import { MAX_CLIENT_WEIGHT, RISK_COMPONENTS, type RiskWeightOverrides } from '../../engine/risk-weights'
import { Panel } from '../ui/bits'
import { ApiForm } from '../ui/forms'
import { Table } from '../ui/table'

/** What each component measures (engine/risk.ts), in the words of docs/engine.md. */
const MEANING: Record<keyof RiskWeights, string> = {
  interruptions: 'interruption notices in the pool, 30 days',
  rebalances: 'rebalance recommendations, 30 days',
  followThrough: 'share of rebalances followed by a notice',
  volatility: 'price volatility, 24 h',
  trend: 'price rise, last hour',
  ratio: 'spot price close to on-demand',
  lifetime: 'how long spot instances lived in the pool',
  capacity: 'low spot placement score of the AZ, capacity errors on launch',
}

export function RiskWeightsPanel(props: {
  clientId: string
  defaults: RiskWeights
  overrides: RiskWeightOverrides
  writable: boolean
  csrf: string
}) {
  const rows = RISK_COMPONENTS.map((k) => (
    <tr>
      <td>
        <b>{k}</b> <span class="muted">{MEANING[k]}</span>
      </td>
      <td>{props.defaults[k]}</td>
      <td>
        {props.writable ? (
          <input
            name={k}
            type="number"
            min="0"
            max={String(MAX_CLIENT_WEIGHT)}
            step="0.01"
            value={props.overrides[k] === undefined ? '' : String(props.overrides[k])}
            placeholder="default"
            style="width:90px"
          />
        ) : (
          (props.overrides[k] ?? <span class="muted">default</span>)
        )}
      </td>
    </tr>
  ))
  const table = (
    <Table bare columns={['Component', 'Default', 'This client']}>
      {rows}
    </Table>
  )
  return (
    <Panel title="Engine risk weights">
      <p class="muted" style="margin-top:0">
        A pool's risk is the weighted mean of these components (docs/engine.md). Each weight is 0 to{' '}
        {MAX_CLIENT_WEIGHT}; an empty field uses the engine's default. The engine's next run decides with
        them.
      </p>
      {props.writable ? (
        <ApiForm
          api={`/api/client/${props.clientId}/risk-weights`}
          method="PUT"
          csrf={props.csrf}
          tone="primary"
          submit="Save weights"
        >
          {table}
        </ApiForm>
      ) : (
        table
      )}
    </Panel>
  )
}
