/**
 * What follows an interruption's drain (issue 15, item 4). The drain runs beside the failover within the
 * notice's budget (notices.ts); once both ended, the instance the control plane promoted joins the target
 * groups this one left (this agent knows both: the groups it left and the promoted instance's id in the
 * termination-imminent answer), and the drain's timed steps with those groups reach the control plane
 * (POST interruption-drain), which shows them with the interruption's switch. An emergency replacement is
 * not registered here: its id comes too late for the dying host (the groups are in the report).
 */
import type { ActionContext } from './context'
import { NOTICE_MARGIN_MS, rejoin, type DrainSettings, type Drained } from './drain'

/** The notice as the drain's report names it: the interrupted instance's termination time (ISO-8601). */
export interface DrainedNotice {
  terminationTime: string
  /** Epoch ms: the interrupted host's end. */
  deadline: number
}

/**
 * Registers `promotedInstanceId` (null: none known) in the groups the drain left, bounded by the
 * notice's margin, then queues the report; nothing to say when the drain had no step.
 */
export async function finishInterruptionDrain(
  ctx: ActionContext,
  settings: DrainSettings,
  drained: Drained,
  notice: DrainedNotice,
  promotedInstanceId: string | null,
): Promise<void> {
  const rejoined = promotedInstanceId
    ? await rejoin(ctx, settings, promotedInstanceId, drained.memberships, notice.deadline - NOTICE_MARGIN_MS)
    : []
  const steps = [...drained.steps, ...rejoined]
  ctx.log.info('interruption: drained', { steps, new_instance_id: promotedInstanceId })
  if (steps.length === 0) return
  ctx.link.report(
    `interruption-drain:${ctx.self.instanceId}:${notice.terminationTime}`,
    'POST',
    '/interruption-drain',
    {
      instance_id: ctx.self.instanceId,
      termination_time: notice.terminationTime,
      steps,
      target_groups: drained.memberships.map((m) => ({ target_group_arn: m.targetGroupArn, port: m.port })),
      registered_instance_id: rejoined.some((s) => s.name === 'register_targets' && s.ok)
        ? promotedInstanceId
        : null,
    },
  )
}
