/** Client portal: one switch (old → new, times, downtime; a stateful switch's steps, data loss and address). */
import { Hono } from 'hono'
import { database } from '../../db/client'
import { switchInScope } from '../../db/queries/switch-detail'
import type { AppEnv } from '../../env'
import { found } from '../../errors'
import { Badge, Panel, perHour, Stat, Time } from '../ui/bits'
import { Shell } from '../ui/layout'
import { portalClient, viewerOf } from './context'
import { AddressChange, dataLossWords, StatefulSteps } from './stateful-switch'

export const portalSwitch = new Hono<AppEnv>()

portalSwitch.get('/switches/:switchId', async (c) => {
  const viewer = viewerOf(c)
  const client = await portalClient(c)
  const { row: s, logicalAgentId } = found(
    await switchInScope(database(c.env.DB), client.id, c.req.param('switchId')),
    'switch not found',
  )
  const stateful = s.statefulDetail
  return c.html(
    <Shell title={`Switch ${s.id}`} viewer={viewer} active={`/c/${client.id}/switches`} client={client}>
      <div class="cards">
        <Stat
          label="Instance"
          value={
            <span style="font-size:14px">
              <code>{s.oldInstanceId ?? '?'}</code> → <code>{s.newInstanceId ?? '?'}</code>
            </span>
          }
          sub={
            <>
              <Badge value={s.oldMode} /> → <Badge value={s.newMode} />
            </>
          }
        />
        <Stat
          label="When"
          value={<Time ms={s.receivedAt} />}
          sub={`${s.trigger} · agent ${logicalAgentId ?? s.agentId}`}
        />
        <Stat
          label="Downtime"
          value={
            <span id="switch-downtime">
              {s.downtimeMs === null ? '—' : `${(s.downtimeMs / 1000).toFixed(1)} s`}
            </span>
          }
          sub={s.durationMs === null ? '' : `switch took ${(s.durationMs / 1000).toFixed(1)} s`}
        />
        <Stat label="New price" value={perHour(s.newPrice)} sub={`was ${perHour(s.oldPrice)}`} />
      </div>
      {s.errorMessage ? <div class="note warn">{s.errorMessage}</div> : null}
      {stateful ? (
        <Panel title="Stateful switch" id="stateful-switch">
          <p id="data-loss">
            Data: <strong>{dataLossWords(s.dataLossBoundSeconds)}</strong>
          </p>
          <p id="address-change">
            Private address
            {s.interfaceId ? (
              <>
                {' '}
                (<code>{s.interfaceId}</code>)
              </>
            ) : null}
            : <AddressChange old={s.oldPrivateIp} new={s.newPrivateIp} changed={s.addressChanged} />
          </p>
          <StatefulSteps detail={stateful} />
        </Panel>
      ) : (
        <Panel title="Workload">
          <p class="muted">
            A stateless switch: the new instance started from the switch's AMI; only the Elastic IP followed.
          </p>
        </Panel>
      )}
    </Shell>,
  )
})
