/**
 * What follows an interruption's drain (issue 15, item 4). The drain runs beside the failover within the
 * notice's budget (notices.ts); once both ended, the instance the control plane promoted joins the target
 * groups this one left (this agent knows both: the groups it left and the promoted instance's id in the
 * termination-imminent answer), and the drain's timed steps with those groups reach the control plane
 * (POST interruption-drain), which shows them with the interruption's switch. An emergency replacement's
 * id comes too late for the dying host: the control plane, holding the groups from that report, tells the
 * replacement `register_targets` and its own agent joins them (runRegisterTargets), by the same `rejoin`.
 */
import type { Command } from '../../../src/protocol'
import { fail, ok, type ActionContext, type ActionResult } from './context'
import {
  drainSettingsOf,
  NOTICE_MARGIN_MS,
  rejoin,
  type DrainSettings,
  type Drained,
  type Step,
} from './drain'

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
  reportDrain(ctx, `interruption-drain:${ctx.self.instanceId}:${notice.terminationTime}`, {
    interruptedInstanceId: ctx.self.instanceId,
    terminationTime: notice.terminationTime,
    steps,
    memberships: drained.memberships,
    registeredInstanceId: rejoined.some((s) => s.name === 'register_targets' && s.ok)
      ? promotedInstanceId
      : null,
  })
}

/**
 * register_targets, on the interruption's replacement (the command is reserved for it; commands.ts runs it
 * after the stateful start, so the workload's data is back before traffic comes, and refuses it once the
 * agent retired here: a replacement superseded since never registers). This instance joins the groups the
 * interrupted one left, on the same ports, and `post-switch` runs; the steps go to the interruption's
 * switch as that drain's report (registration is idempotent in ELBv2: a repeat changes nothing).
 */
export async function runRegisterTargets(
  ctx: ActionContext,
  command: Extract<Command, { command_type: 'register_targets' }>,
): Promise<ActionResult> {
  const { self } = ctx
  if (command.instance_id !== self.instanceId)
    return fail(
      'NotReplacement',
      `register_targets is for ${command.instance_id ?? 'no instance'}, not ${self.instanceId}`,
    )
  // The groups were drained by a stateful agent: registering back needs no setting but the hook's timeout.
  const settings = drainSettingsOf(ctx.agentConfig()) ?? {
    targetGroups: true,
    unit: null,
    hookTimeoutMs: 30_000,
  }
  const memberships = command.target_groups.map((g) => ({ targetGroupArn: g.target_group_arn, port: g.port }))
  const steps = await rejoin(ctx, settings, self.instanceId, memberships)
  const registered = steps.find((s) => s.name === 'register_targets')
  reportDrain(ctx, `register-targets:${command.id}`, {
    interruptedInstanceId: command.old_instance_id,
    terminationTime: command.termination_time,
    steps,
    memberships,
    registeredInstanceId: registered?.ok ? self.instanceId : null,
  })
  return registered?.ok
    ? ok(registered.detail ?? `${self.instanceId} registered`)
    : fail('RegisterFailed', registered?.detail ?? 'not registered', true)
}

/** Queues the drain's report (POST interruption-drain) under `key`. */
function reportDrain(
  ctx: ActionContext,
  key: string,
  drain: {
    interruptedInstanceId: string
    terminationTime: string | null
    steps: Step[]
    memberships: Drained['memberships']
    registeredInstanceId: string | null
  },
): void {
  ctx.link.report(key, 'POST', '/interruption-drain', {
    instance_id: drain.interruptedInstanceId,
    termination_time: drain.terminationTime,
    steps: drain.steps,
    target_groups: drain.memberships.map((m) => ({ target_group_arn: m.targetGroupArn, port: m.port })),
    registered_instance_id: drain.registeredInstanceId,
  })
}
