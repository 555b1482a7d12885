/**
 * Emergency launch without the control plane: when an interruption notice cannot reach it in time,
 * the agent picks the safest pool it knows itself (the cheapest spot price of its type in another AZ,
 * one DescribeSpotPriceHistory call) and launches a replacement there; a pool without capacity
 * passes to the next, and on-demand in its own AZ is the last resort (the first for a stateful workload,
 * whose data volumes stay in its AZ). The control plane never
 * listed a replica for it, so the launch is reported as what it is, a switch (trigger `interruption`)
 * from this instance to the replacement: queued in the persisted outbox the moment EC2 answers, it
 * lands as soon as the control plane answers again, even after a restart. Traffic follows the
 * workload as in a switch: once the replacement runs, and before the notice runs out, it takes the
 * interrupted instance's Elastic IP, and the queued report says when. The agent then retires here
 * (the workload moved), which also keeps a restarted agent from launching a second replacement.
 * The host may end with the report still queued: the replacement's tags carry it too (emergency-tags.ts).
 */
import { kindOf } from '../ec2-transport'
import { createTags, describeSpotPriceHistory } from '../ec2-operations'
import type { Notice } from '../monitors/notice'
import { latestPerAz, type SpotPool } from '../pricing'
import { addressToFollow, moveAddress } from './addresses'
import { fail, messageOf, type ActionContext, type ActionResult } from './context'
import {
  emergencyReportKey,
  emergencySwitchReport,
  emergencyTags,
  LOCAL_REPLICA_PREFIX,
  movedTags,
  type EmergencyFacts,
  type Moved,
  type Replacement,
} from './emergency-tags'
import { launchReplica, type OwnLaunch } from './replica'

/** Prices older than this say little about today's pools. */
const PRICE_LOOKBACK_MS = 6 * 60 * 60_000
/** What a notice without a usable time leaves (AWS announces two minutes). */
const NOTICE_MS = 120_000

type Interruption = Extract<Notice, { kind: 'interruption' }>

export async function launchWithoutControlPlane(
  ctx: ActionContext,
  notice: Interruption,
  detectedAt: number,
): Promise<ActionResult> {
  const { self, log } = ctx
  let pools: SpotPool[]
  try {
    const rows = await describeSpotPriceHistory(
      ctx.ec2,
      self.instanceType,
      'Linux/UNIX',
      ctx.clock.now() - PRICE_LOOKBACK_MS,
    )
    pools = latestPerAz(self.instanceType, rows)
  } catch (err) {
    return fail('NoPool', `could not read spot prices: ${messageOf(err)}`, true)
  }
  // The cheapest spot pools of other AZs, then on-demand here: a capacity refusal moves to the next.
  // A stateful workload tries on-demand here first: its data volumes stay in this AZ (stateful/restore.ts).
  // Spot here is the interrupted pool, and which other types the workload may run on only the control
  // plane knows (its placement tries them here first, replicas/replacement.ts).
  const elsewhere: Target[] = pools
    .filter((p) => p.az !== self.az)
    .sort((a, b) => a.price - b.price)
    .map((p) => ({ mode: 'spot' as const, poolId: p.pool_id, price: p.price }))
  const here: Target = { mode: 'ondemand', poolId: `${self.instanceType}.${self.az}`, price: null }
  const targets = ctx.agentConfig()?.stateful === true ? [here, ...elsewhere] : [...elsewhere, here]
  const oldSpot = pools.find((p) => p.az === self.az)?.price ?? null
  let result: ActionResult = fail('NoPool', 'nothing to launch')
  for (const [n, target] of targets.entries()) {
    log.warn('interruption: control plane unreachable, emergency launch on our own', {
      mode: target.mode,
      pool_id: target.poolId,
      notice_id: notice.id,
    })
    result = await launchOwnReplacement(ctx, notice, detectedAt, target, n, oldSpot)
    if (result.ok || kindOf(result.code, 0) !== 'capacity') return result
  }
  return result
}

interface Target {
  mode: 'spot' | 'ondemand'
  /** With on-demand: the type and AZ to launch in. */
  poolId: string
  price: number | null
}

/** One launch attempt (the `n`-th, from 0) for the notice: the interruption's switch once EC2 answers. */
async function launchOwnReplacement(
  ctx: ActionContext,
  notice: Interruption,
  detectedAt: number,
  target: Target,
  n: number,
  oldSpot: number | null,
): Promise<ActionResult> {
  const { self, log } = ctx
  const key = emergencyReportKey(notice.id)
  const terminationAt = Date.parse(notice.time)
  const endsAt =
    Number.isFinite(terminationAt) && terminationAt > detectedAt ? terminationAt : detectedAt + NOTICE_MS
  const prices = { oldSpot, newSpot: target.mode === 'spot' ? target.price : null }
  const facts = (imageSource: EmergencyFacts['imageSource']) =>
    noticeFacts(ctx, notice, detectedAt, prices, imageSource)
  const report = (launch: OwnLaunch, moved: Moved | null) =>
    emergencySwitchReport(facts(launch.imageSource), replacementOf(ctx, launch), moved)
  // The notice id is deterministic: a second detection of the same notice reuses the ClientToken.
  return launchReplica(ctx, {
    replicaId: `${LOCAL_REPLICA_PREFIX}${notice.id}${n === 0 ? '' : `-${n + 1}`}`,
    poolId: target.poolId,
    az: null,
    replicaType: 'emergency',
    mode: target.mode,
    tags: (imageSource) => emergencyTags(facts(imageSource)),
    own: {
      launched(launch) {
        ctx.link.report(key, 'POST', '/switch-report', report(launch, null))
        log.warn('emergency replacement launched; its switch report is queued for the control plane', {
          instance_id: launch.instanceId,
          report: key,
        })
        // Retired on disk at once, so a restarted agent never launches a second replacement; the
        // running agent retires (and exits once its reports land) only after the take-over below,
        // which exiting would cut short.
        ctx.state.retire(self.instanceId, retiredBecause(launch), ctx.clock.now())
      },
      async takeOver(launch) {
        const moved = await moveElasticIp(ctx, launch.instanceId, endsAt)
        if (moved !== null) {
          // The replacement's own report (its tags) says when too, should this host end first.
          await createTags(ctx.ec2, [launch.instanceId], movedTags(moved)).catch((err: unknown) =>
            log.warn('emergency replacement: the Elastic IP move not tagged on it', {
              instance_id: launch.instanceId,
              error: messageOf(err),
            }),
          )
          // Still queued while the control plane is down (why we are here): it goes out with the time.
          // Already delivered, it stays as recorded (a repeated report changes nothing there).
          if (ctx.state.outbox().some((o) => o.key === key)) {
            ctx.link.report(key, 'POST', '/switch-report', report(launch, moved))
          } else {
            log.warn(
              'emergency switch report delivered before the Elastic IP moved: it records no traffic switch',
              { report: key },
            )
          }
        }
        ctx.retire(retiredBecause(launch))
      },
      failed(instanceId) {
        // Not delivered yet: the control plane never learns of a replacement that is already gone.
        ctx.state.dequeue(key)
        log.error('emergency replacement lost', { instance_id: instanceId })
      },
    },
  })
}

/** What an emergency replacement's tags say of the interruption it answers (emergency-tags.ts). */
export function noticeFacts(
  ctx: ActionContext,
  notice: Interruption,
  detectedAt: number,
  prices: EmergencyFacts['prices'],
  imageSource: EmergencyFacts['imageSource'],
): EmergencyFacts {
  const { self } = ctx
  const terminationAt = Date.parse(notice.time)
  return {
    noticeId: notice.id,
    detectedAt,
    oldEndsAt: notice.action === 'terminate' && Number.isFinite(terminationAt) ? terminationAt : null,
    old: { instanceId: self.instanceId, az: self.az, amiId: self.amiId, mode: self.mode },
    prices,
    imageSource,
  }
}

const retiredBecause = (launch: OwnLaunch) =>
  `emergency replacement ${launch.instanceId} launched for the interruption`

/**
 * Moves the interrupted instance's Elastic IP to the replacement once it runs (EC2 refuses to
 * associate with a pending instance) and before `endsAt`, when this instance and its agent end.
 * Answers when it moved and its public IP; null when there was none or it could not move (logged: the
 * launch stands).
 * SPOTGUARD_DRY_RUN: the Ec2 client logs the AssociateAddress it would make.
 */
export async function moveElasticIp(
  ctx: ActionContext,
  instanceId: string,
  endsAt: number,
): Promise<Moved | null> {
  const { self, log } = ctx
  try {
    const { address, left } = await addressToFollow(ctx)
    if (!address) {
      log.info('emergency replacement: the interrupted instance has no Elastic IP to move', {
        instance_id: self.instanceId,
      })
      return null
    }
    if (left.length > 0)
      log.warn('emergency replacement: only one Elastic IP can follow; these stay behind', {
        public_ips: left,
      })
    const at = await moveAddress(ctx, address, instanceId, endsAt, { kind: 'workload' })
    log.warn('emergency replacement: Elastic IP moved', {
      public_ip: address.publicIp,
      allocation_id: address.allocationId,
      from: self.instanceId,
      to: instanceId,
    })
    return { at, publicIp: address.publicIp }
  } catch (err) {
    log.error('emergency replacement: Elastic IP not moved', {
      instance_id: instanceId,
      error: messageOf(err),
    })
    return null
  }
}

const replacementOf = (ctx: ActionContext, launch: OwnLaunch): Replacement => ({
  instanceId: launch.instanceId,
  instanceType: launch.instanceType,
  region: ctx.self.region,
  az: launch.az,
  imageId: launch.imageId,
  mode: launch.mode,
  launchedAt: launch.at,
})
