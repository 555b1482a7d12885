/** POST /api/agents/:agentId/switch-report: the agent reports a switch it made. */
import { createRoute } from '@hono/zod-openapi'
import { AGENT_API, answers, jsonBody, routeGroup } from '../group'
import * as z from 'zod'
import { withHistoryPrices } from '../../flows/switch/prices'
import {
  recordSwitchReport,
  terminatingOld,
  type SwitchReport,
  type SwitchSide,
} from '../../flows/switch/report'
import { tellConfirmEnd } from '../../flows/switch/switched-away'
import { rejoinReplacement } from '../../flows/replicas/notice-drain'
import { statefulRecordOf } from '../../flows/switch/stateful'
import { StatefulSwitchReport } from '../../protocol'
import { fact, flagField, instanceIdField, modeField, priceField, timeField } from './wire'
import { database } from '../../db/client'
import { followAgent } from '../../flows/ledger/follow'
import { OWN_AGENT, type AgentRouteEnv } from './context'
import { clock } from '../../clock'
import { feedsOtherTenants } from '../../auth/principal'

const Side = z.object({
  instance_id: fact,
  instance_type: fact,
  region: fact,
  az: fact,
  ami_id: fact,
  mode: modeField,
  pool_id: fact,
})

const Prices = z.object({ on_demand: priceField, old_spot: priceField, new_spot: priceField })

/** Both timing key sets of agent-api.md, accepted under `timing` or at the top level. */
const timingKeys = {
  switch_initiated_at: timeField,
  new_instance_launched_at: timeField,
  new_instance_ready_at: timeField,
  traffic_switched_at: timeField,
  old_instance_terminated_at: timeField,
  /** 5.x: the old instance's agent is about to terminate its own host. */
  old_instance_terminating_at: timeField,
  initiated_at: timeField,
  ami_created_at: timeField,
  instance_launched_at: timeField,
  instance_ready_at: timeField,
  old_terminated_at: timeField,
}

export const SwitchReportBody = z.object({
  old_instance: Side.nullish(),
  /** `public_ip`: the Elastic IP that followed the workload onto it (5.x agents), else absent. */
  new_instance: Side.extend({ instance_id: instanceIdField, public_ip: fact }),
  snapshot: z.object({ used: flagField, ami_id: fact }).nullish(),
  trigger: z.string().max(64).nullish(),
  command_id: z.string().max(128).nullish(),
  /** What the installed agent sends. */
  prices: Prices.nullish(),
  /** Accepted alias of `prices`. */
  pricing: Prices.nullish(),
  timing: z.object(timingKeys).nullish(),
  ...timingKeys,
  /** A stateful agent's steps, data loss bound, address change and volume moves (absent: stateless). */
  stateful: StatefulSwitchReport.nullish(),
})

export const switchReports = routeGroup<AgentRouteEnv>(AGENT_API)

switchReports.openapi(
  createRoute({
    method: 'post',
    middleware: OWN_AGENT,
    path: '/{agentId}/switch-report',
    summary: 'A finished switch (prices, timing, snapshot)',
    request: { body: jsonBody(SwitchReportBody) },
    responses: answers('OK'),
  }),
  async (c) => {
    const body = c.req.valid('json')
    const agent = c.get('agent')
    const prices = body.prices ?? body.pricing
    const t = body.timing
    const pick = (a: keyof typeof timingKeys, b: keyof typeof timingKeys) =>
      t?.[a] ?? t?.[b] ?? body[a] ?? body[b] ?? null
    const db = database(c.env.DB)
    const now = clock.now()
    const reported: SwitchReport = {
      commandId: body.command_id ?? null,
      trigger: body.trigger ?? 'unknown',
      old: body.old_instance ? side(body.old_instance) : null,
      new: { ...side(body.new_instance), instanceId: body.new_instance.instance_id },
      newPublicIp: body.new_instance.public_ip,
      oldTerminating: pick('old_instance_terminating_at', 'old_instance_terminating_at') !== null,
      snapshotUsed: body.snapshot?.used ?? null,
      amiId: body.snapshot?.ami_id ?? null,
      stateful: body.stateful ? statefulRecordOf(body.stateful) : null,
      prices: {
        onDemand: prices?.on_demand ?? null,
        oldSpot: prices?.old_spot ?? null,
        newSpot: prices?.new_spot ?? null,
      },
      times: {
        initiatedAt: pick('switch_initiated_at', 'initiated_at'),
        amiCreatedAt: pick('ami_created_at', 'ami_created_at'),
        launchedAt: pick('new_instance_launched_at', 'instance_launched_at'),
        readyAt: pick('new_instance_ready_at', 'instance_ready_at'),
        trafficSwitchedAt: pick('traffic_switched_at', 'traffic_switched_at'),
        oldTerminatedAt: pick('old_instance_terminated_at', 'old_terminated_at'),
      },
    }
    // Every switch carries its prices: what the report lacks comes from the price history.
    const report = await withHistoryPrices(db, agent, reported, now)
    const result = await recordSwitchReport(db, agent, report, feedsOtherTenants(c.get('principal')), now)
    // Its confirmation may die with the host: the workload's instance confirms the end through EC2.
    const terminating = terminatingOld(report)
    if (terminating) {
      const runner =
        agent.instanceId && agent.instanceId !== terminating ? agent.instanceId : report.new.instanceId
      await tellConfirmEnd(c.env, agent, runner, terminating)
    }
    // An emergency replacement's switch may land after the interrupted instance's drain report.
    if (report.trigger === 'interruption' && report.old?.instanceId)
      await rejoinReplacement(c.env, db, agent, report.old.instanceId)
    c.executionCtx.waitUntil(followAgent(db, agent.clientId, agent.id, clock.now()))
    return c.json(
      { success: true, switch_id: result.switchId, duplicate: !result.created },
      result.created ? 201 : 200,
    )
  },
)

function side(s: z.output<typeof Side>): SwitchSide {
  return {
    instanceId: s.instance_id,
    instanceType: s.instance_type,
    region: s.region,
    az: s.az,
    amiId: s.ami_id,
    mode: s.mode,
    poolId: s.pool_id,
  }
}
