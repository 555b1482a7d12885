/** Client portal: instances (filters, search, prices) and one instance (metrics, price chart, switch buttons). */
import { Hono } from 'hono'
import { database } from '../../db/client'
import type { AppEnv } from '../../env'
import { readQuery } from './query'
import { switchHistory } from '../../db/queries/history'
import { livenessFrom } from '../../db/queries/liveness'
import { instanceFacts } from '../../db/queries/instance-detail'
import { instanceOptions } from '../../db/queries/instance-options'
import { placementOptions } from '../../engine/placement-options'
import { OptionsNote, OptionsTable } from './instance-options'
import { PageQuery } from '../../db/queries/paging'
import { instanceInScope, InstanceListQuery, listInstances } from '../../db/queries/instances'
import { priceHistory, RANGE_KEYS, RANGES, spanOfData, type RangeKey } from '../../db/queries/price-history'
import { Badge, Empty, Filters, Pager, Panel, pct, perHour, Stat, usd } from '../ui/bits'
import { PriceChart, type Marker } from '../ui/charts'
import { Shell } from '../ui/layout'
import { Table } from '../ui/table'
import { canWrite, portalClient, viewerOf } from './context'
import { ForceSwitchForm } from './force-switch'
import { InstanceFilterSelects, InstanceTable } from './tables'
import { SwitchTable } from './switch-table'
import { clock } from '../../clock'
import { found } from '../../errors'

export const portalInstances = new Hono<AppEnv>()

portalInstances.get('/instances', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const q = readQuery(c, InstanceListQuery)
  const page = await listInstances(database(c.env.DB), livenessFrom(c.env), client.id, q)
  return c.html(
    <Shell title="Instances" viewer={viewer} active={`/c/${client.id}/instances`} client={client}>
      <Panel>
        <Filters search={q.search} placeholder="Search instance id, type, AZ or agent">
          <InstanceFilterSelects mode={q.mode} status={q.status} />
        </Filters>
        {page.items.length === 0 ? (
          <Empty>
            {q.search || q.mode || q.status ? (
              'No instance matches these filters.'
            ) : (
              <>
                No instance yet: <a href={`/c/${client.id}/install`}>install the agent</a> on one.
              </>
            )}
          </Empty>
        ) : (
          <InstanceTable rows={page.items} />
        )}
        <Pager url={c.req.url} page={page.page} limit={page.limit} total={page.total} />
      </Panel>
    </Shell>,
  )
})

portalInstances.get('/instances/:instanceId', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const db = database(c.env.DB)
  const inst = found(await instanceInScope(db, client.id, c.req.param('instanceId')), 'instance not found')
  const range: RangeKey = RANGE_KEYS.find((r) => r === c.req.query('range')) ?? '24h'
  const now = clock.now()
  const { page } = readQuery(c, PageQuery)
  const [{ metrics, pricing, markers }, history, switches, options] = await Promise.all([
    instanceFacts(db, inst, now, now - RANGES[range]),
    inst.instanceType && inst.region
      ? priceHistory(db, inst.clientId, inst.instanceType, inst.region, RANGES[range], now)
      : null,
    switchHistory(db, client.id, { instanceId: inst.instanceId, limit: 10 }),
    instanceOptions(db, inst, now),
  ])

  const marks: Marker[] = [
    ...markers.switches.map((s) => ({
      at: s.at,
      kind: 'switch' as const,
      label: `switch (${s.trigger}) to ${s.toPool ?? s.toMode ?? ''}`,
    })),
    ...markers.events.map((e) => ({
      at: e.at,
      kind: 'interruption' as const,
      label: `${e.kind} in ${e.poolId ?? 'pool'}`,
    })),
    ...markers.decisions.map((d) => ({
      at: d.at,
      kind: 'decision' as const,
      label: `engine: ${d.decision}${d.target ? ` to ${d.target}` : ''}${d.reasonCode === 'back_to_spot' ? ' (back to spot)' : ''}${Array.isArray(d.blockedBy) && d.blockedBy.length ? ` (blocked: ${d.blockedBy.join(', ')})` : ''}`,
    })),
  ]
  const writable = canWrite(viewer) && inst.status === 'active'
  const base = `/c/${client.id}/instances/${inst.instanceId}`
  return c.html(
    <Shell title={inst.instanceId} viewer={viewer} active={`/c/${client.id}/instances`} client={client}>
      <div class="cards">
        <Stat
          label="Mode"
          value={<Badge value={inst.mode} />}
          sub={`${inst.instanceType ?? ''} · ${inst.az ?? ''}`}
        />
        <Stat
          label="Current price"
          value={perHour(inst.mode === 'spot' ? metrics.spotPrice : metrics.onDemandPrice)}
          sub={`on-demand ${perHour(metrics.onDemandPrice)}`}
        />
        <Stat
          label="Uptime"
          value={`${metrics.uptimeHours} h`}
          sub={
            metrics.hoursSinceLastSwitch === null
              ? 'never switched'
              : `${metrics.hoursSinceLastSwitch} h since last switch`
          }
        />
        <Stat label="Switches" value={metrics.totalSwitches} sub={`${metrics.switchesLast7Days} in 7 days`} />
        <Stat
          label="Saved (30 d)"
          value={usd(metrics.savingsLast30Days)}
          sub={`lifetime ${usd(metrics.totalSavings)} (ledger, per agent)`}
        />
      </div>
      <Panel
        title={
          <>
            Price history{' '}
            <span style="font-weight:400;font-size:13px;margin-left:8px">
              {RANGE_KEYS.map((r) =>
                r === range ? (
                  <b style="margin-right:8px">{r}</b>
                ) : (
                  <a href={`${base}?range=${r}`} style="margin-right:8px">
                    {r}
                  </a>
                ),
              )}
            </span>
          </>
        }
      >
        {history && (history.pools.length > 0 || history.onDemand.length > 0) ? (
          <PriceChart
            history={spanOfData(history, inst.createdAt)}
            markers={marks}
            currentPool={inst.mode === 'spot' ? inst.poolId : null}
          />
        ) : (
          <Empty>
            No price reported yet for {inst.instanceType ?? 'this type'} in {inst.region ?? 'this region'}.
            The agent reports prices every 5 minutes.
          </Empty>
        )}
      </Panel>
      <Panel title="Pools">
        <div class="note">
          A switch launches a copy from a fresh AMI of this instance in the target pool and moves its Elastic
          IP. The private IP and primary network interface stay with the old instance; in the agent's stateful
          mode, its data volumes and the private address of its managed interface follow it.
        </div>
        <Table id="pools" columns={['Pool', 'AZ', ['Price', 'num'], ['Saving vs on-demand', 'num'], '']}>
          <tr data-pool="ondemand">
            <td>On-demand</td>
            <td>any</td>
            <td class="num">{perHour(pricing.onDemand.price)}</td>
            <td class="num">0.0 %</td>
            <td>
              {inst.mode === 'ondemand' ? (
                <Badge value="ondemand" />
              ) : writable ? (
                <SwitchButton instanceId={inst.instanceId} target="ondemand" csrf={viewer.csrfToken} />
              ) : null}
            </td>
          </tr>
          {pricing.pools.map((p) => (
            <tr data-pool={p.id}>
              <td>
                <code>{p.id}</code>
              </td>
              <td>{p.az}</td>
              <td class="num">{perHour(p.price)}</td>
              <td class="num">{pct(p.savings)}</td>
              <td>
                {p.isCurrent ? (
                  <Badge value="active" />
                ) : writable && p.price !== null ? (
                  <SwitchButton
                    instanceId={inst.instanceId}
                    target="pool"
                    poolId={p.id}
                    csrf={viewer.csrfToken}
                  />
                ) : null}
              </td>
            </tr>
          ))}
        </Table>
      </Panel>
      <Panel title="Options: every instance type and AZ" id="options-panel">
        {options ? (
          <>
            <OptionsNote
              workload={options.input.workload}
              decision={options.input.decision}
              agentVersion={options.agent.agentVersion}
            />
            <OptionsTable
              rows={placementOptions(options.input)}
              page={page}
              url={c.req.url}
              agent={{ workload: options.input.workload, agentVersion: options.agent.agentVersion }}
            />
          </>
        ) : (
          <Empty>Options are shown for the instance an agent runs on now.</Empty>
        )}
      </Panel>
      <Panel title="Switches of this instance">
        <SwitchTable rows={switches} clientId={client.id} />
      </Panel>
    </Shell>,
  )
})

/** "Switch here" on a pool row (or the on-demand row). */
function SwitchButton(props: {
  instanceId: string
  target: 'ondemand' | 'pool'
  poolId?: string
  csrf: string
}) {
  return (
    <ForceSwitchForm
      instanceId={props.instanceId}
      target={props.target}
      poolId={props.poolId}
      progressId={`progress-${(props.poolId ?? 'ondemand').replace(/[^a-zA-Z0-9-]/g, '-')}`}
      csrf={props.csrf}
      confirm={`Switch ${props.instanceId} to ${props.poolId ?? 'on-demand'}?`}
      submit="Switch here"
    />
  )
}
