/**
 * Emergency launch without the control plane: when an interruption notice cannot reach it in time,
 * the agent picks the safest pool it knows itself (the cheapest spot price of its type in another AZ,
 * one DescribeSpotPriceHistory call) and launches a replacement there. The control plane never
 * listed a replica for it, so the launch is reported as what it is, a switch (trigger `interruption`)
 * from this instance to the replacement: queued in the persisted outbox the moment EC2 answers, it
 * lands as soon as the control plane answers again, even after a restart. The agent then retires here
 * (the workload moved), which also keeps a restarted agent from launching a second replacement.
 */
import { iso } from '../clock'
import { describeSpotPriceHistory } from '../ec2-api'
import type { Notice } from '../monitors/notice'
import { latestPerAz, type SpotPool } from '../pricing'
import { fail, messageOf, type ActionContext, type ActionResult } from './context'
import { launchReplica, type OwnLaunch } from './replica'

/** Prices older than this say little about today's pools. */
const PRICE_LOOKBACK_MS = 6 * 60 * 60_000

type Interruption = Extract<Notice, { kind: 'interruption' }>

/** The outbox key of the switch report of the replacement launched for `notice`. */
export const emergencyReportKey = (notice: Interruption) => `emergency-switch:${notice.id}`

export async function launchWithoutControlPlane(ctx: ActionContext, notice: Interruption, detectedAt: number): Promise<ActionResult> {
  const { self, log } = ctx
  let pools: SpotPool[]
  try {
    const rows = await describeSpotPriceHistory(ctx.ec2, self.instanceType, 'Linux/UNIX', ctx.clock.now() - PRICE_LOOKBACK_MS)
    pools = latestPerAz(self.instanceType, rows)
  } catch (err) {
    return fail('NoPool', `could not read spot prices: ${messageOf(err)}`, true)
  }
  const safest = pools.filter((p) => p.az !== self.az).sort((a, b) => a.price - b.price)[0]
  if (!safest) return fail('NoPool', `no spot price known for ${self.instanceType} outside ${self.az}`)
  log.warn('interruption: control plane unreachable, emergency launch on our own', { pool_id: safest.pool_id, notice_id: notice.id })
  const prices = { on_demand: null, old_spot: pools.find((p) => p.az === self.az)?.price ?? null, new_spot: safest.price }
  const key = emergencyReportKey(notice)
  // The notice id is deterministic: a second detection of the same notice reuses the ClientToken.
  return launchReplica(ctx, {
    replicaId: `local-${notice.id}`,
    poolId: safest.pool_id,
    az: null,
    replicaType: 'emergency',
    own: {
      launched(launch) {
        ctx.link.report(key, 'POST', '/switch-report', emergencySwitchReport(ctx, notice, launch, prices, detectedAt))
        log.warn('emergency replacement launched; its switch report is queued for the control plane', { instance_id: launch.instanceId, report: key })
        ctx.retire(`emergency replacement ${launch.instanceId} launched for the interruption`)
      },
      failed(instanceId) {
        // Not delivered yet: the control plane never learns of a replacement that is already gone.
        ctx.state.dequeue(key)
        log.error('emergency replacement lost', { instance_id: instanceId })
      },
    },
  })
}

/** The switch-report body (agent-api.md) of an emergency replacement. */
export function emergencySwitchReport(
  ctx: ActionContext,
  notice: Interruption,
  launch: OwnLaunch,
  prices: { on_demand: number | null; old_spot: number | null; new_spot: number | null },
  detectedAt: number,
) {
  const { self } = ctx
  const terminationAt = Date.parse(notice.time)
  return {
    trigger: 'interruption',
    old_instance: {
      instance_id: self.instanceId,
      instance_type: self.instanceType,
      region: self.region,
      az: self.az,
      ami_id: self.amiId,
      mode: self.mode,
      pool_id: self.mode === 'spot' ? `${self.instanceType}.${self.az}` : null,
    },
    new_instance: {
      instance_id: launch.instanceId,
      instance_type: launch.instanceType,
      region: self.region,
      az: launch.az,
      ami_id: launch.imageId,
      mode: 'spot',
      pool_id: `${launch.instanceType}.${launch.az}`,
    },
    snapshot: { used: launch.imageSource === 'spotguard_ami', ami_id: launch.imageId },
    prices,
    timing: {
      switch_initiated_at: iso(detectedAt),
      new_instance_launched_at: iso(launch.at),
      new_instance_ready_at: null,
      traffic_switched_at: null,
      // A `terminate` notice is AWS's own word that the instance ends then: nothing here could
      // confirm it later (the agent goes with its host), so the report carries it.
      old_instance_terminated_at: notice.action === 'terminate' && Number.isFinite(terminationAt) ? iso(terminationAt) : null,
    },
  }
}
