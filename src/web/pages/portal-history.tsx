/** Client portal: replicas, decisions, savings, switch history, notifications. */
import { eq } from 'drizzle-orm'
import { Hono } from 'hono'
import { database } from '../../db/client'
import { agents } from '../../db/schema'
import type { AppEnv } from '../../env'
import { decisionTimeline, switchHistory } from '../../db/queries/history'
import { poolTotals } from '../../db/queries/breakdown'
import { utcDay } from '../../ledger/rollup'
import { monthBounds } from '../../ledger/summary'
import { ledgerDays, monthlySavings, savingsByAgent, summarizeDays } from '../../db/queries/savings'
import { Empty, Panel, pct, Stat, usd } from '../ui/bits'
import { SavingsChart } from '../ui/charts'
import { Shell } from '../ui/layout'
import { Table } from '../ui/table'
import { portalClient, viewerOf } from './context'
import { DecisionList } from './decision-list'
import { SwitchTable } from './switch-table'
import { clock } from '../../clock'

export const portalHistory = new Hono<AppEnv>()

portalHistory.get('/decisions', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const db = database(c.env.DB)
  const [rows, agentRows] = await Promise.all([
    decisionTimeline(db, client.id, { from: clock.now() - 7 * 86_400_000, limit: 200 }),
    db
      .select({ id: agents.id, instanceId: agents.instanceId })
      .from(agents)
      .where(eq(agents.clientId, client.id)),
  ])
  return c.html(
    <Shell
      title="Engine decisions (7 days)"
      viewer={viewer}
      active={`/c/${client.id}/decisions`}
      client={client}
    >
      <Panel>
        <DecisionList
          rows={rows}
          clientId={client.id}
          viewer={viewer}
          instanceOf={new Map(agentRows.map((a) => [a.id, a.instanceId]))}
        />
      </Panel>
    </Shell>,
  )
})

portalHistory.get('/savings', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const db = database(c.env.DB)
  const now = clock.now()
  const [ledger, byPool] = await Promise.all([
    ledgerDays(db, client.id, now),
    poolTotals(db, client.id, monthBounds(now)[0], now),
  ])
  const summary = summarizeDays(ledger.days, now)
  const months = monthlySavings(ledger.days)
  const byAgent = await savingsByAgent(db, client.id, utcDay(now).slice(0, 8) + '01', ledger.live)
  return c.html(
    <Shell
      title="Savings"
      viewer={viewer}
      active={`/c/${client.id}/savings`}
      client={client}
      actions={
        <a class="btn" href={`/api/client/${client.id}/export/savings.csv`} id="export-savings">
          Export CSV
        </a>
      }
    >
      <div class="cards" id="savings-cards">
        <Stat label="Month to date" value={<span id="savings-mtd">{usd(summary.monthToDate)}</span>} />
        <Stat
          label="Projected month"
          value={<span id="savings-projected">{usd(summary.projectedMonth)}</span>}
        />
        <Stat
          label="Lifetime"
          value={<span id="savings-lifetime">{usd(summary.lifetime)}</span>}
          sub={summary.percentSaved === null ? '' : `${pct(summary.percentSaved)} below on-demand`}
        />
      </div>
      <Panel title="Per month: baseline vs actual">
        {months.length === 0 ? (
          <Empty>No usage recorded yet: savings count from the first minute an agent runs.</Empty>
        ) : (
          <SavingsChart months={months} />
        )}
      </Panel>
      <Panel title="Per agent, this month">
        {byAgent.length === 0 ? (
          <Empty>No savings recorded this month yet.</Empty>
        ) : (
          <Table bare columns={['Agent', ['Baseline', 'num'], ['Replica cost', 'num'], ['Saved', 'num']]}>
            {byAgent.map((a) => (
              <tr>
                <td>
                  <a href={`/c/${client.id}/agents/${a.agentId}`}>{a.logicalAgentId ?? a.agentId}</a>
                </td>
                <td class="num">{usd(a.baseline)}</td>
                <td class="num">{usd(a.replicaCost)}</td>
                <td class="num">{usd(a.savings)}</td>
              </tr>
            ))}
          </Table>
        )}
      </Panel>
      <Panel title="Per pool, this month">
        {byPool.length === 0 ? (
          <Empty>No usage recorded this month yet.</Empty>
        ) : (
          <Table
            bare
            id="savings-pools"
            columns={[
              'Pool',
              'Role',
              ['Hours', 'num'],
              ['Cost', 'num'],
              ['On-demand cost', 'num'],
              ['Saved', 'num'],
            ]}
          >
            {byPool.map((p) => (
              <tr>
                <td>
                  <code>{p.pool_id ?? 'on-demand'}</code>
                </td>
                <td>{p.role}</td>
                <td class="num">{p.hours.toFixed(1)}</td>
                <td class="num">{usd(p.cost)}</td>
                <td class="num">{p.role === 'primary' ? usd(p.ondemand_cost) : '—'}</td>
                <td class="num">{p.role === 'primary' ? usd(p.savings) : '—'}</td>
              </tr>
            ))}
          </Table>
        )}
      </Panel>
    </Shell>,
  )
})

portalHistory.get('/switches', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const page = Math.max(1, Number(c.req.query('page')) || 1)
  const rows = await switchHistory(database(c.env.DB), client.id, { limit: 50, offset: (page - 1) * 50 })
  return c.html(
    <Shell
      title="Switch history"
      viewer={viewer}
      active={`/c/${client.id}/switches`}
      client={client}
      actions={
        <a class="btn" href={`/api/client/${client.id}/export/switches.csv`} id="export-switches">
          Export CSV
        </a>
      }
    >
      <Panel>
        <SwitchTable rows={rows} clientId={client.id} />
        <div class="pager">
          {page > 1 ? <a href={`?page=${page - 1}`}>← Newer</a> : null}
          {rows.length === 50 ? <a href={`?page=${page + 1}`}>Older →</a> : null}
        </div>
      </Panel>
    </Shell>,
  )
})
