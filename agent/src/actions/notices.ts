/**
 * What the agent does about a notice. Interruption: tell the control plane at once, retrying within
 * the 2-minute budget; when it has no replica to promote (409), launch an emergency replacement from
 * the newest SpotGuard AMI (else the launch AMI); when it does not answer within its share of the
 * budget, launch that replacement without it (actions/emergency.ts). Meanwhile, when configured, the
 * instance drains (drain.ts) within the same budget; a stateful one then releases its data volumes and
 * address (stateful/restore-release.ts), and its replacement goes to its AZ first and takes them back
 * (stateful/restore.ts). Rebalance: ask for an emergency replica and launch it.
 */
import { backoffMs } from '../clock'
import type { Notice } from '../monitors/notice'
import { launchWithoutControlPlane, noticeFacts } from './emergency'
import { emergencyTags } from './emergency-tags'
import { fail, messageOf, ok, type ActionContext, type ActionResult } from './context'
import { drain, drainSettingsOf, NOTICE_MARGIN_MS, noticeLimits } from './drain'
import { finishInterruptionDrain } from './interruption-drain'
import { launchReplica } from './replica'
import type { StatefulStart } from './stateful/establish'
import { markPromotedReplacement, releaseStatefulParts } from './stateful/restore-release'

/** Interruptions come ~120 s ahead; keep the last 20 s for nothing useful anyway. */
const DEFAULT_BUDGET_MS = 120_000
/** The control plane knows the prices of a replacement it placed; the tags carry none. */
const NO_PRICES = { oldSpot: null, newSpot: null }
/** The control plane gets this much of the budget to answer; then the agent launches on its own. */
export const CONTROL_PLANE_SHARE_MS = 30_000

/** `stateful`: the agent's stateful start, which an interruption stops (absent: nothing to stop). */
export async function handleNotice(
  ctx: ActionContext,
  notice: Notice,
  stateful?: Pick<StatefulStart, 'interrupt'>,
): Promise<ActionResult> {
  switch (notice.kind) {
    case 'interruption':
      return handleInterruption(ctx, notice, stateful)
    case 'rebalance':
      return handleRebalance(ctx, notice)
    case 'scheduled':
      ctx.log.warn('scheduled event announced', {
        code: notice.code,
        event_id: notice.eventId,
        not_before: notice.notBefore,
      })
      return ok(`scheduled ${notice.code} noted`)
    default: {
      const never: never = notice
      return never
    }
  }
}

async function handleInterruption(
  ctx: ActionContext,
  notice: Extract<Notice, { kind: 'interruption' }>,
  stateful?: Pick<StatefulStart, 'interrupt'>,
): Promise<ActionResult> {
  const detectedAt = ctx.clock.now()
  const terminationAt = Date.parse(notice.time)
  const deadline =
    Number.isFinite(terminationAt) && terminationAt > detectedAt
      ? terminationAt
      : detectedAt + DEFAULT_BUDGET_MS
  // Whatever replaces a stateful workload now (each attempt the control plane makes) takes its data back.
  if (ctx.agentConfig()?.stateful === true)
    ctx.replacementTags.of = (imageSource) =>
      emergencyTags(noticeFacts(ctx, notice, detectedAt, NO_PRICES, imageSource))
  // The failover does not wait for the drain: both run within the budget.
  const settings = drainSettingsOf(ctx.agentConfig())
  // A restore still taking the workload's parts onto this instance stops at its next step (at once).
  const startStopped = stateful?.interrupt()
  // A stateful workload, once stopped, lets go of its data volumes and address for its replacement
  // (what the stopped restore took too).
  const draining = settings
    ? drain(ctx, settings, 'interruption', noticeLimits(settings, detectedAt, deadline)).then(
        async (drained) => {
          await startStopped
          return {
            ...drained,
            steps: [...drained.steps, ...(await releaseStatefulParts(ctx, deadline - NOTICE_MARGIN_MS))],
          }
        },
      )
    : null
  let promoted: string | null = null
  const result = await failOver(ctx, notice, detectedAt, deadline, (id) => (promoted = id))
  if (settings && draining)
    await finishInterruptionDrain(
      ctx,
      settings,
      await draining,
      { terminationTime: notice.time, deadline },
      promoted,
    )
  return result
}

async function failOver(
  ctx: ActionContext,
  notice: Extract<Notice, { kind: 'interruption' }>,
  detectedAt: number,
  deadline: number,
  /** Hears the promoted replica's instance id (the drain's groups take it in). */
  onPromoted: (instanceId: string) => void,
): Promise<ActionResult> {
  const { link, clock, log, self } = ctx
  // A launch takes most of the rest: waiting for the control plane until the end would save nothing.
  const giveUpAt = Math.min(deadline, detectedAt + CONTROL_PLANE_SHARE_MS)
  const body = {
    instance_id: self.instanceId,
    termination_time: notice.time,
    detected_at: new Date(detectedAt).toISOString(),
  }
  for (let attempt = 0; ; attempt++) {
    const reply = await link.terminationImminent(body)
    if (reply.ok) {
      const promoted = reply.body.new_instance_id
      if (promoted) onPromoted(promoted)
      log.info('interruption: control plane fails over', {
        new_instance_id: promoted,
        action: reply.body.action,
      })
      if (ctx.agentConfig()?.stateful === true && isRealInstanceId(promoted) && promoted !== self.instanceId)
        await markPromotedReplacement(
          ctx,
          promoted!,
          noticeFacts(ctx, notice, detectedAt, NO_PRICES, 'launch_ami'),
        )
      return ok(`control plane answered ${reply.body.action ?? 'ok'}`)
    }
    if (reply.status === 409) {
      log.warn('interruption: no replica to promote, emergency launch', { error: reply.error })
      return emergencyLaunch(ctx, notice, detectedAt)
    }
    if (reply.status >= 400 && reply.status < 500 && reply.status !== 408 && reply.status !== 429) {
      return fail('Refused', `termination-imminent refused: ${reply.status} ${reply.error}`)
    }
    const wait = backoffMs(attempt, 250, 5_000)
    if (clock.now() + wait >= giveUpAt) {
      log.warn('interruption: control plane did not answer in time', {
        status: reply.status,
        error: reply.error,
      })
      return launchWithoutControlPlane(ctx, notice, detectedAt)
    }
    await clock.sleep(wait, ctx.signal)
    if (ctx.signal.aborted) return fail('Stopped', 'agent stopping')
  }
}

/** No replica: ask for the safest pool and launch there (the launch picks the image and says which). */
async function emergencyLaunch(
  ctx: ActionContext,
  notice: Extract<Notice, { kind: 'interruption' }>,
  detectedAt: number,
): Promise<ActionResult> {
  // A stateful workload's data volumes stay in its AZ: the control plane places it there first.
  const stateful = ctx.agentConfig()?.stateful === true
  const reply = await ctx.link.createEmergencyReplica({
    signal_type: 'termination-notice',
    instance_id: ctx.self.instanceId,
    termination_time: notice.time,
    exclude_zones: stateful ? [] : [ctx.self.az],
  })
  // Refused now after answering 409 a moment ago: it went away, so the agent launches on its own.
  if (!reply.ok && (reply.status === 0 || reply.status >= 500))
    return launchWithoutControlPlane(ctx, notice, detectedAt)
  if (!reply.ok)
    return fail('NoEmergencyReplica', `create-emergency-replica failed: ${reply.status} ${reply.error}`, true)
  if (isRealInstanceId(reply.body.instance_id))
    return ok(`replica ${reply.body.replica_id} already runs on ${reply.body.instance_id}`)
  return launchReplica(ctx, {
    replicaId: reply.body.replica_id,
    poolId: reply.body.pool?.id ?? null,
    az: reply.body.pool?.az ?? null,
    replicaType: 'emergency',
    mode: reply.body.mode ?? 'spot',
  })
}

async function handleRebalance(
  ctx: ActionContext,
  notice: Extract<Notice, { kind: 'rebalance' }>,
): Promise<ActionResult> {
  const { link, log, self, clock } = ctx
  if (ctx.agentConfig()?.enabled === false) return ok('agent disabled: rebalance only observed')
  try {
    const replica = await link.createEmergencyReplica({
      signal_type: 'rebalance-recommendation',
      instance_id: self.instanceId,
    })
    const recommendation = await link.rebalanceRecommendation({
      instance_id: self.instanceId,
      detected_at: new Date(clock.now()).toISOString(),
      notice_time: notice.noticeTime,
    })
    if (!recommendation.ok)
      log.warn('rebalance recommendation not recorded', { status: recommendation.status })
    if (!replica.ok)
      return fail(
        'NoEmergencyReplica',
        `create-emergency-replica failed: ${replica.status} ${replica.error}`,
        true,
      )
    if (isRealInstanceId(replica.body.instance_id)) {
      return ok(`replica ${replica.body.replica_id} already runs on ${replica.body.instance_id}`)
    }
    return launchReplica(ctx, {
      replicaId: replica.body.replica_id,
      poolId: replica.body.pool?.id ?? null,
      az: replica.body.pool?.az ?? null,
      replicaType: 'emergency',
      mode: replica.body.mode ?? 'spot',
    })
  } catch (err) {
    return fail('RebalanceFailed', messageOf(err), true)
  }
}

/** A real EC2 id (the control plane answers a placeholder until the replica is launched). */
function isRealInstanceId(id: string | null | undefined): boolean {
  return typeof id === 'string' && /^i-[0-9a-f]{8,17}$/.test(id)
}
