/**
 * The switch of product.md: AMI of the running instance, launch in the target pool, wait for it, drain
 * the old one when configured (drain.ts), move the Elastic IP, the new one joins the target groups,
 * report the switch and mark the command done, and only THEN terminate the old
 * instance (after terminate_wait_seconds; 0 keeps it). Every step's result is persisted, so a
 * restart resumes the switch instead of starting another (the ClientToken makes the launch idempotent).
 */
import type { Command } from '../../../src/protocol'
import { iso } from '../clock'
import { Ec2Error } from '../ec2-transport'
import {
  associateAddress,
  createImage,
  describeImages,
  describeInstance,
  terminateInstance,
  type InstanceFacts,
} from '../ec2-operations'
import { addressToFollow, assertMayMove } from './addresses'
import {
  amiName,
  clientToken,
  fail,
  INTERRUPTED,
  messageOf,
  ok,
  parsePool,
  type ActionContext,
  type ActionResult,
} from './context'
import { drain, drainSettingsOf, rejoin, statefulReport, switchLimits, undrain, type Drained } from './drain'
import { LaunchError, launchLike, waitImageAvailable, waitRunningAndOk } from './launch'
import { assertOwned, NotOwned, tagAsWorkload } from './ownership'
import { readInventory, reportInventoryOf } from './stateful/inventory'
import { copyStatefulParts, deleteKeptParts, keepByPolicy, removeCopies } from './stateful/cross-az'
import { isEmpty, moveStatefulParts, planOf, putBack, type MovePlan, type Moved } from './stateful/move'
import { confirmTerminated } from './terminate'

type SwitchCommand = Extract<Command, { command_type: 'switch' }>

/** Runs (or resumes) a switch; answers once the switch is reported, before the old instance goes. */
export async function runSwitch(ctx: ActionContext, command: SwitchCommand): Promise<ActionResult> {
  const { ec2, state, clock, log, self } = ctx
  const step = (facts: Record<string, string>) => state.progress(command.id, facts)
  const done = state.progressOf(command.id)
  const started = done.initiatedAt ? Number(done.initiatedAt) : clock.now()
  if (!done.initiatedAt) step({ initiatedAt: String(started) })

  if (done.reported) return finishSwitch(ctx, command, done)

  const target = targetOf(command, self)
  if (!target)
    return fail(
      'BadTarget',
      `switch target not understood: ${command.target_mode} ${command.target_pool_id} ${command.target_instance_type ?? ''}`.trim(),
    )
  if (target.instanceType === self.instanceType && target.az === self.az && target.mode === self.mode) {
    return fail('AlreadyThere', `already running ${target.mode} in ${target.az}`)
  }

  let newInstanceId = done.newInstanceId ?? null
  let imageId = done.imageId ?? null
  const drainSettings = drainSettingsOf(ctx.agentConfig())
  let drained: Drained | null = done.drained ? (JSON.parse(done.drained) as Drained) : null
  // Stateful mode: what moves with the workload, fixed before anything moves (a resumed switch reuses it).
  let plan: MovePlan | null = done.movePlan ? (JSON.parse(done.movePlan) as MovePlan) : null
  let moved: Moved | null = done.moved ? (JSON.parse(done.moved) as Moved) : null
  try {
    const source = await describeInstance(ec2, self.instanceId)
    if (!source) return fail('SelfUnknown', `EC2 does not know ${self.instanceId}`)

    // The old instance is terminated later under a policy scoped to ManagedBy=SpotOptimizer, and only
    // once its tags make it this workload's (ownership.ts): an adopted original is tagged here.
    await tagAsWorkload(ctx, source)

    if (!plan && ctx.agentConfig()?.stateful === true) {
      plan = planOf(await readInventory(ctx, source))
      step({ movePlan: JSON.stringify(plan) })
    }
    // EBS volumes and interfaces are bound to their AZ: across AZs they are copied (stateful/cross-az.ts).
    const acrossAz = target.az !== self.az

    // 1. An AMI of this instance, found again by its command tag after a restart.
    if (!imageId) {
      const existing = await describeImages(
        ec2,
        [],
        [{ name: 'tag:SpotGuardCommandId', values: [command.id] }],
      )
      imageId = existing[0]?.imageId ?? null
    }
    if (!imageId) {
      imageId = await createImage(
        ec2,
        self.instanceId,
        amiName(self.instanceId, clock.now()),
        ctx.config.amiNoReboot,
        {
          ManagedBy: 'SpotOptimizer',
          LogicalAgentId: ctx.logicalAgentId,
          SourceInstance: self.instanceId,
          SpotGuardCommandId: command.id,
        },
        // The image holds the root volume only: the live data volumes move instead.
        plan?.volumes.map((v) => v.device) ?? [],
      )
      log.info('switch: image requested', { command_id: command.id, image_id: imageId })
    }
    step({ imageId })
    await waitImageAvailable(ctx, imageId)
    const amiCreatedAt = clock.now()

    // 2. Launch in the target pool; the ClientToken returns the same instance on a retry.
    newInstanceId = await launchLike(ctx, source, {
      imageId,
      instanceType: target.instanceType,
      az: target.az,
      mode: target.mode,
      tags: { LogicalAgentId: ctx.logicalAgentId },
      clientToken: clientToken('switch', command.id),
    })
    step({ newInstanceId, launchedAt: String(clock.now()) })
    log.info('switch: instance launched', { command_id: command.id, new_instance_id: newInstanceId })

    // 3. Running with status checks passing.
    await waitRunningAndOk(ctx, newInstanceId)
    const readyAt = clock.now()

    // 4. Traffic switch point: the old instance drained (a resumed switch does not drain twice), then
    // the Elastic IP follows and the new one joins the target groups.
    if (drainSettings && !drained) {
      drained = await drain(ctx, drainSettings, 'switch', switchLimits(clock.now()))
      step({ drained: JSON.stringify(drained) })
    }
    if (plan && !isEmpty(plan) && !moved) {
      moved = acrossAz
        ? await copyStatefulParts(ctx, plan, command.id, self.instanceId, newInstanceId)
        : await moveStatefulParts(ctx, plan, self.instanceId, newInstanceId)
      step({ moved: JSON.stringify(moved) })
      await reportInventoryOf(ctx, newInstanceId)
    }
    const { address, left } = await addressToFollow(ctx)
    if (left.length > 0)
      log.warn('switch: only one Elastic IP can follow; these stay behind', {
        command_id: command.id,
        public_ips: left,
      })
    if (address) {
      await assertMayMove(ctx, address, newInstanceId, { kind: 'workload' })
      await associateAddress(ec2, address.allocationId, newInstanceId)
    }
    const rejoined =
      drainSettings && drained ? await rejoin(ctx, drainSettings, newInstanceId, drained.memberships) : []
    const switchedAt = clock.now()
    step({ readyAt: String(readyAt), switchedAt: String(switchedAt), amiCreatedAt: String(amiCreatedAt) })

    // Past rollback: the old parts a copy left on the old instance wait, kept, for the confirmation.
    if (plan && acrossAz) await keepByPolicy(ctx, plan)

    // 5. Report and mark done BEFORE anything terminates the old instance.
    const report = switchReport(ctx, command, source, target, {
      newInstanceId,
      imageId,
      started,
      amiCreatedAt,
      launchedAt: Number(state.progressOf(command.id).launchedAt ?? readyAt),
      readyAt,
      switchedAt,
      publicIp: address?.publicIp ?? null,
      stateful: statefulReport(
        [...(drained?.steps ?? []), ...(moved?.steps ?? []), ...rejoined],
        moved ?? undefined,
      ),
    })
    step({ report: JSON.stringify(report) })
    ctx.link.report(`switch:${command.id}`, 'POST', '/switch-report', report)
    ctx.link.report(`executed:${command.id}`, 'POST', `/commands/${command.id}/executed`, {
      success: true,
      message: `switched to ${newInstanceId} (${target.mode} ${target.instanceType} in ${target.az})`,
    })
    step({ reported: '1' })
    ctx.retire(`workload switched to ${newInstanceId}`)
    return finishSwitch(ctx, command, state.progressOf(command.id))
  } catch (err) {
    const interrupted = ctx.signal.aborted && ctx.signal.reason === INTERRUPTED
    // Stopping is not failing: the persisted progress lets the next start resume this switch.
    if (ctx.signal.aborted && !interrupted)
      return fail('Stopped', 'agent stopping; the switch resumes after restart', true)
    const message = interrupted
      ? 'abandoned: this instance is being interrupted (the failover moves the workload)'
      : messageOf(err)
    log.error('switch failed, cleaning up', { command_id: command.id, error: message })
    // Volumes and the interface go back BEFORE the new instance ends: never left attached nowhere.
    if (plan && !isEmpty(plan) && newInstanceId)
      await (target.az !== self.az ? removeCopies(ctx, command.id) : putBack(ctx, plan, self.instanceId))
    await cleanUpFailedSwitch(ctx, newInstanceId)
    if (drainSettings && drained && !interrupted) await undrain(ctx, drainSettings, drained)
    const code = interrupted
      ? 'Interrupted'
      : err instanceof Ec2Error
        ? err.code
        : err instanceof LaunchError || err instanceof NotOwned
          ? err.code
          : 'SwitchFailed'
    return fail(
      code,
      `switch failed: ${message}${newInstanceId ? `; ${newInstanceId} terminated` : ''}`,
      err instanceof Ec2Error && err.retryable,
    )
  }
}

/** After the reports: wait for delivery, then terminate the old instance after the wait (0 keeps it). */
async function finishSwitch(
  ctx: ActionContext,
  command: SwitchCommand,
  done: Record<string, string>,
): Promise<ActionResult> {
  const { link, clock, log, self } = ctx
  // The reports must have landed: if the control plane is down, the old instance waits for it.
  await link.delivered(`switch:${command.id}`)
  await link.delivered(`executed:${command.id}`)
  // A switch across AZs is confirmed: the old data volumes and interface it kept go.
  const target = targetOf(command, self)
  if (done.movePlan && target && target.az !== self.az && !done.keptDeleted) {
    await deleteKeptParts(ctx, JSON.parse(done.movePlan) as MovePlan)
    ctx.state.progress(command.id, { keptDeleted: '1' })
  }
  const wait = command.terminate_wait_seconds ?? 0
  if (wait <= 0) {
    log.info('switch done; the old instance is kept (terminate_wait_seconds 0)', { command_id: command.id })
    return ok('switched; old instance kept')
  }
  const terminateAt = Number(done.switchedAt ?? clock.now()) + wait * 1000
  await clock.sleep(Math.max(0, terminateAt - clock.now()), ctx.signal)
  if (ctx.signal.aborted) return ok('switched; termination of the old instance abandoned at shutdown')
  // Said (and landed) BEFORE this host ends itself: the confirmation below may die with the host, so the
  // control plane has the workload's instance confirm the end through EC2 (agent-api.md).
  if (done.report) {
    const terminating = JSON.parse(done.report) as { timing: Record<string, string | null> }
    terminating.timing.old_instance_terminating_at = iso(clock.now())
    link.report(`switch-terminating:${command.id}`, 'POST', '/switch-report', terminating)
    await link.delivered(`switch-terminating:${command.id}`)
  }
  try {
    // This host, which IMDS named (no command can point this at another instance), checked as any
    // target: the switch tagged it as this workload's before it launched.
    await assertOwned(ctx, self.instanceId, { kind: 'workload' })
    await terminateInstance(ctx.ec2, self.instanceId)
    await confirmTerminated(ctx, self.instanceId)
    log.info('switch: old instance terminated', { command_id: command.id, instance_id: self.instanceId })
    // The same report again, now with the confirmed termination (the control plane records it too).
    if (done.report) {
      const report = JSON.parse(done.report) as { timing: Record<string, string | null> }
      report.timing.old_instance_terminated_at = new Date(clock.now()).toISOString()
      link.report(`switch-terminated:${command.id}`, 'POST', '/switch-report', report)
    }
    return ok(`switched; ${self.instanceId} terminated`)
  } catch (err) {
    log.error('switch: old instance not terminated', { command_id: command.id, error: messageOf(err) })
    return ok(`switched; terminating ${self.instanceId} failed: ${messageOf(err)}`)
  }
}

async function cleanUpFailedSwitch(ctx: ActionContext, newInstanceId: string | null): Promise<void> {
  if (!newInstanceId) return
  // Not checked (ownership.ts): RunInstances answered this id to this switch's launch.
  try {
    await terminateInstance(ctx.ec2, newInstanceId)
  } catch (err) {
    ctx.log.error('switch cleanup: could not terminate the new instance', {
      instance_id: newInstanceId,
      error: messageOf(err),
    })
  }
}

interface Target {
  instanceType: string
  az: string
  mode: 'spot' | 'ondemand'
}

/**
 * Where a switch goes: the pool when given (its type must be `target_instance_type` when both are
 * given), else the same AZ in the target mode, of `target_instance_type` or the same type.
 */
export function targetOf(command: SwitchCommand, self: { instanceType: string; az: string }): Target | null {
  const wantedType = command.target_instance_type ?? null
  if (command.target_pool_id) {
    const pool = parsePool(command.target_pool_id)
    if (!pool || (wantedType !== null && wantedType !== pool.instanceType)) return null
    return { ...pool, mode: command.target_mode }
  }
  if (command.target_mode === 'spot') return null
  return { instanceType: wantedType ?? self.instanceType, az: self.az, mode: 'ondemand' }
}

function switchReport(
  ctx: ActionContext,
  command: SwitchCommand,
  source: InstanceFacts,
  target: Target,
  t: {
    newInstanceId: string
    imageId: string
    started: number
    amiCreatedAt: number
    launchedAt: number
    readyAt: number
    switchedAt: number
    /** The Elastic IP that followed, so the control plane names it in a later promotion. */
    publicIp: string | null
    /** Draining's steps (stateful mode, target groups); absent for a plain switch. */
    stateful: ReturnType<typeof statefulReport>
  },
) {
  const { self } = ctx
  return {
    command_id: command.id,
    trigger: command.priority >= 50 ? 'manual' : 'model',
    old_instance: {
      instance_id: self.instanceId,
      instance_type: self.instanceType,
      region: self.region,
      az: self.az,
      ami_id: source.imageId ?? self.amiId,
      mode: self.mode,
      pool_id: self.mode === 'spot' ? `${self.instanceType}.${self.az}` : null,
    },
    new_instance: {
      instance_id: t.newInstanceId,
      instance_type: target.instanceType,
      region: self.region,
      az: target.az,
      ami_id: t.imageId,
      mode: target.mode,
      pool_id: target.mode === 'spot' ? `${target.instanceType}.${target.az}` : null,
      public_ip: t.publicIp,
    },
    snapshot: { used: true, ami_id: t.imageId },
    timing: {
      switch_initiated_at: iso(t.started),
      ami_created_at: iso(t.amiCreatedAt),
      new_instance_launched_at: iso(t.launchedAt),
      new_instance_ready_at: iso(t.readyAt),
      traffic_switched_at: iso(t.switchedAt),
      old_instance_terminated_at: null,
    },
    ...(t.stateful ? { stateful: t.stateful } : {}),
  }
}
