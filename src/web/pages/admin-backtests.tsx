/**
 * The engine page's backtests: per parameter version a form that runs one on stored price history
 * (POST /api/admin/engine/versions/:version/backtest) and its latest reports, each table explained.
 */
import { count, desc, inArray } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { pools, users } from '../../db/schema'
import type { BacktestRun } from '../../engine/backtest/stored'
import type { StrategyRow } from '../../engine/backtest/report'
import { Badge, Empty, Time, usd } from '../ui/bits'
import { ApiForm } from '../ui/forms'
import { Table } from '../ui/table'

/** Reports shown per version; the API lists the rest. */
export const REPORTS_PER_VERSION = 5

export interface Market {
  instanceType: string
  region: string
}

/** Instance types and regions with stored pools, the most pooled first (the form's suggestions). */
export async function knownMarkets(db: Database): Promise<Market[]> {
  return db
    .select({ instanceType: pools.instanceType, region: pools.region })
    .from(pools)
    .groupBy(pools.instanceType, pools.region)
    .orderBy(desc(count()), pools.instanceType, pools.region)
    .limit(100)
}

/** E-mails of the admins who ran these reports, by user id. */
export async function authorsOf(db: Database, runs: BacktestRun[]): Promise<Map<string, string>> {
  const ids = [...new Set(runs.flatMap((r) => (r.created_by ? [r.created_by] : [])))].slice(0, 90)
  if (ids.length === 0) return new Map()
  const rows = await db.select({ id: users.id, email: users.email }).from(users).where(inArray(users.id, ids))
  return new Map(rows.map((r) => [r.id, r.email]))
}

const MEANING: Record<string, string> = {
  active:
    "This version's decision engine, fed at every step what the Worker's runner would know (prices, their 24 h volatility and 1 h trend, the fleet's interruptions and rebalances).",
  ondemand: 'Always on-demand: the baseline every saving is measured against.',
  cheapest:
    'Jumps to the cheapest pool at every step, ignoring risk and the switch caps: what chasing the price alone costs.',
  legacy:
    'The replaced system: its starting pool only; on-demand above 80 % of the on-demand price, back to spot above 30 % savings.',
  optimum:
    'The cheapest plan in hindsight, knowing every price and interruption in advance, deciding once an hour within the caps: the yardstick.',
}

function ReportTable(props: { rows: StrategyRow[] }) {
  return (
    <Table
      columns={[
        'Strategy',
        ['Total cost', 'num'],
        ['Savings vs on-demand', 'num'],
        ['Share of hindsight optimum', 'num'],
        ['Switches', 'num'],
        ['Interruptions hit', 'num'],
        ['Cap violations', 'num'],
      ]}
    >
      {props.rows.map((r) => (
        <tr data-strategy={r.strategy}>
          <td style="max-width:340px">
            <b>{r.strategy}</b>
            <div class="muted" style="font-size:12px">
              {MEANING[r.strategy] ?? ''}
            </div>
          </td>
          <td class="num">{usd(r.total_cost, 4)}</td>
          <td class="num">{r.savings_vs_ondemand_pct.toFixed(2)} %</td>
          <td class="num">
            {r.share_of_hindsight_optimum === null
              ? '—'
              : `${(r.share_of_hindsight_optimum * 100).toFixed(1)} %`}
          </td>
          <td class="num">{r.switches}</td>
          <td class="num">{r.interruptions_hit}</td>
          <td class="num">{r.cap_violations}</td>
        </tr>
      ))}
    </Table>
  )
}

function Report(props: { run: BacktestRun; authors: Map<string, string> }) {
  const { inputs } = props.run
  const t = inputs.trace
  return (
    <div class="backtest-report" data-run={props.run.id} style="margin:12px 0">
      <div style="font-size:13px;margin-bottom:6px">
        <Time ms={props.run.created_at} /> by{' '}
        {props.run.created_by
          ? (props.authors.get(props.run.created_by) ?? props.run.created_by)
          : 'operator'}{' '}
        ·{' '}
        <b>
          {inputs.instance_type} in {inputs.region}
        </b>
        , last {inputs.days} d: <Time ms={Date.parse(t.start)} /> → <Time ms={Date.parse(t.end)} />, {t.steps}{' '}
        steps of {t.step_minutes} min, {t.pools.length} pools · on-demand ${inputs.on_demand_price}/h (
        {inputs.on_demand_source === 'stored' ? 'stored' : 'given'}) · caps {inputs.caps.perDay}/24 h,{' '}
        {inputs.caps.perWeek}/7 d · {t.interruptions} interruptions in the fleet
      </div>
      <ReportTable rows={props.run.strategies} />
    </div>
  )
}

/** How to read the tables, once for the page. */
export function BacktestLegend() {
  return (
    <details style="margin-bottom:12px">
      <summary>How to read a backtest</summary>
      <p class="muted" style="font-size:13px">
        A backtest replays the stored spot prices of every pool of one instance type and region (the fleet's
        interruption notices included) with each strategy below, one instance for the whole window. Total
        cost: what the instance would have cost, with 10 minutes billed at both prices per switch and 15
        minutes of on-demand per interruption. Savings: against always on-demand. Share of hindsight optimum:
        this row's savings over the optimum's (the optimum decides hourly, so a strategy that switches between
        hours can exceed 100 %). Switches count against the caps; cap violations are switches that broke the
        24 h or 7 d cap; interruptions hit are the ones that struck the pool the strategy was in.
      </p>
    </details>
  )
}

export function VersionBacktests(props: {
  version: number
  status: string
  runs: BacktestRun[]
  total: number
  markets: Market[]
  csrf: string
  authors: Map<string, string>
  /** Shown unfolded (the newest and the active version, and any with reports). */
  open: boolean
}) {
  const first = props.markets[0]
  return (
    <details class="backtests" id={`backtests-v${props.version}`} open={props.open}>
      <summary>
        v{props.version} <Badge value={props.status} /> · {props.total} backtest{props.total === 1 ? '' : 's'}
      </summary>
      <ApiForm
        class="inline"
        api={`/api/admin/engine/versions/${props.version}/backtest`}
        csrf={props.csrf}
        submit="Run backtest"
        tone="primary"
        style="margin:10px 0"
      >
        <input
          name="instance_type"
          list="bt-types"
          placeholder="instance type"
          value={first?.instanceType}
          required
        />
        <input name="region" list="bt-regions" placeholder="region" value={first?.region} required />
        <label>
          days <input name="days" type="number" min={1} max={90} value={30} style="width:70px" />
        </label>
        <input
          name="on_demand_price"
          type="number"
          step="any"
          min={0}
          placeholder="on-demand $/h"
          title="Empty: the latest stored on-demand price"
          style="width:140px"
        />
      </ApiForm>
      {props.runs.length === 0 ? (
        <Empty>
          No backtest of v{props.version} yet. Pick an instance type and region whose spot prices agents have
          reported (at least two price points), a window of 1 to 90 days, and run one: it replays that history
          with this version and compares it with on-demand, the cheapest pool, the replaced system and the
          hindsight optimum.
        </Empty>
      ) : (
        props.runs.map((run) => <Report run={run} authors={props.authors} />)
      )}
      {props.total > props.runs.length ? (
        <p class="muted" style="font-size:13px">
          {props.total - props.runs.length} older:{' '}
          <code>GET /api/admin/engine/versions/{props.version}/backtests</code>
        </p>
      ) : null}
    </details>
  )
}

/** The form's suggestions. */
export function MarketLists(props: { markets: Market[] }) {
  return (
    <>
      <datalist id="bt-types">
        {[...new Set(props.markets.map((m) => m.instanceType))].map((v) => (
          <option value={v} />
        ))}
      </datalist>
      <datalist id="bt-regions">
        {[...new Set(props.markets.map((m) => m.region))].map((v) => (
          <option value={v} />
        ))}
      </datalist>
    </>
  )
}
