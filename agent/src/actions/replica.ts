/**
 * Replicas are real EC2 instances launched by the agent: every replica the control plane lists as
 * `launching` is launched once (ClientToken from the replica id), its real id reported, then its
 * status (syncing → ready). Promotion moves the Elastic IP; termination ends the instance. Both act
 * only on an instance tagged as the command's replica of this workload (ownership.ts).
 */
import type { Command } from '../../../src/protocol'
import { Ec2Error } from '../ec2-transport'
import { describeInstance, describeInstances, terminateInstance } from '../ec2-operations'
import { addressToFollow, addressWithIp, moveAddress } from './addresses'
import { clientToken, fail, messageOf, ok, parsePool, type ActionContext, type ActionResult } from './context'
import { bestImage, launchLike, LaunchError, waitRunningAndOk } from './launch'
import { assertOwned, NotOwned, REFUSED, refusalOf, tagAsWorkload } from './ownership'
import { confirmTerminated } from './terminate'

export interface ReplicaOrder {
  replicaId: string
  poolId: string | null
  az: string | null
  replicaType: 'manual' | 'emergency' | string
  /** `ondemand`: an interruption's last resort when no spot pool had capacity (default spot). */
  mode?: 'spot' | 'ondemand'
  /** More tags for the instance, given the image it is launched from. */
  tags?: (imageSource: 'spotguard_ami' | 'launch_ami') => Record<string, string>
  /**
   * Launched by the agent on its own (control plane unreachable): there is no replica record to
   * report to; the owner reports the launch its own way, and withdraws that if the launch then fails.
   */
  own?: OwnCallbacks
}

export interface OwnCallbacks {
  /** RunInstances answered (the instance is still pending). */
  launched(launch: OwnLaunch): void
  /**
   * Awaited right after `launched`, before the wait for the status checks (minutes: past an
   * interruption's end): the replacement takes the workload's place. Must not throw: whatever it
   * fails to do does not undo the launch.
   */
  takeOver(launch: OwnLaunch): Promise<void>
  /** The launch failed after RunInstances answered; the instance was terminated. */
  failed(instanceId: string): void
}

export interface OwnLaunch {
  instanceId: string
  mode: 'spot' | 'ondemand'
  imageId: string
  imageSource: 'spotguard_ami' | 'launch_ami'
  instanceType: string
  az: string
  /** Epoch ms RunInstances answered. */
  at: number
}

/** Launches one replica and reports it; a second call for the same replica is a no-op. */
export async function launchReplica(ctx: ActionContext, order: ReplicaOrder): Promise<ActionResult> {
  const underway = ctx.replicasUnderway
  if (underway.has(order.replicaId)) return ok(`replica ${order.replicaId} already underway`)
  underway.add(order.replicaId)
  const { link, log, self, clock } = ctx
  const status = (body: Record<string, unknown>) => {
    if (!order.own)
      link.report(
        `replica-status:${order.replicaId}:${String(body.status)}`,
        'POST',
        `/replicas/${order.replicaId}/status`,
        body,
      )
  }
  let instanceId: string | null = null
  try {
    const pool = order.poolId ? parsePool(order.poolId) : null
    const az = pool?.az ?? order.az ?? null
    if (!az) return fail('BadTarget', `replica ${order.replicaId} has no pool`)
    const source = await describeInstance(ctx.ec2, self.instanceId)
    if (!source) return fail('SelfUnknown', `EC2 does not know ${self.instanceId}`)
    await tagAsWorkload(ctx, source).catch((err: unknown) =>
      log.warn('this instance not tagged as the workload: its replica cannot take the address from it', {
        error: messageOf(err),
      }),
    )
    const image = await bestImage(ctx)
    const instanceType = pool?.instanceType ?? self.instanceType
    const mode = order.mode ?? 'spot'
    const token = clientToken('replica', order.replicaId)
    instanceId = await launchLike(ctx, source, {
      imageId: image.imageId,
      instanceType,
      az,
      mode,
      tags: {
        LogicalAgentId: ctx.logicalAgentId,
        ReplicaId: order.replicaId,
        ReplicaType: order.replicaType,
        ParentInstance: self.instanceId,
        ...ctx.replacementTags.of?.(image.source),
        ...order.tags?.(image.source),
      },
      clientToken: token,
    }).catch((err: unknown) => launchedWithToken(ctx, token, err))
    log.info('replica launched', {
      replica_id: order.replicaId,
      instance_id: instanceId,
      image: image.imageId,
      image_source: image.source,
      // Which SpotGuard AMI: the periodic backup's or a switch's, and how old its files are.
      image_kind: image.source === 'launch_ami' ? 'launch' : image.backup ? 'backup' : 'switch',
      image_made_at: image.madeAt === null ? null : new Date(image.madeAt).toISOString(),
    })
    const launch: OwnLaunch = {
      instanceId,
      mode,
      imageId: image.imageId,
      imageSource: image.source,
      instanceType,
      az,
      at: clock.now(),
    }
    order.own?.launched(launch)
    if (!order.own)
      link.report(`replica-put:${order.replicaId}`, 'PUT', `/replicas/${order.replicaId}`, {
        instance_id: instanceId,
        status: 'syncing',
        mode,
      })
    status({ status: 'syncing', sync_started_at: new Date(clock.now()).toISOString() })
    await order.own?.takeOver(launch)
    await waitRunningAndOk(ctx, instanceId)
    status({ status: 'ready', sync_completed_at: new Date(clock.now()).toISOString() })
    return ok(`replica ${order.replicaId} ready on ${instanceId} (from ${image.source} ${image.imageId})`)
  } catch (err) {
    underway.delete(order.replicaId)
    if (instanceId && ctx.signal.aborted) {
      // The agent stops (its host may be at its notice's time) while the replica boots: the replica
      // may already be the workload's primary (a promotion does not wait for ready) and its own agent
      // reports it, so it boots on. Terminating it here lost the workload.
      log.warn('agent stopping: the replica boots on', {
        replica_id: order.replicaId,
        instance_id: instanceId,
      })
      return fail('Stopped', `agent stopping; replica ${order.replicaId} boots on ${instanceId}`, true)
    }
    const message = messageOf(err)
    log.error('replica launch failed', { replica_id: order.replicaId, error: message })
    if (instanceId) {
      // Not checked (ownership.ts): the id is RunInstances' answer to this launch, or the instance its
      // ClientToken started, never one the control plane named.
      await terminateInstance(ctx.ec2, instanceId).catch(() => undefined)
      order.own?.failed(instanceId)
    }
    status({ status: 'failed', error_message: message })
    const code = err instanceof Ec2Error || err instanceof LaunchError ? err.code : 'ReplicaFailed'
    return fail(code, message, err instanceof Ec2Error && err.retryable)
  }
}

/**
 * The instance another launcher started with this ClientToken, when EC2 refused ours for other
 * parameters: a switch's new instance acts for the workload before the old primary retires, and both
 * launch a listed replica (other ParentInstance, maybe another image). It runs: it is the replica, not
 * a failure. Anything else (or no such instance alive) is the error it was.
 */
async function launchedWithToken(ctx: ActionContext, token: string, err: unknown): Promise<string> {
  if (!(err instanceof Ec2Error && err.code === 'IdempotentParameterMismatch')) throw err
  const found = (await describeInstances(ctx.ec2, [], [{ name: 'client-token', values: [token] }])).find(
    (i) => i.state === 'pending' || i.state === 'running',
  )
  if (!found) throw err
  ctx.log.info('replica launched already by another instance of the workload', {
    instance_id: found.instanceId,
  })
  return found.instanceId
}

/** A manual promotion's old agent waits this long for the replica to run. */
const PROMOTE_WAIT_MS = 10 * 60_000
/** The old primary reports this long before its interruption ends (the host goes with it). */
const NOTICE_MARGIN_MS = 10_000

/**
 * promote_replica: the workload's Elastic IP (the old primary's public IP, found by that IP, so the
 * promoted instance's own agent can move it after the old host died) follows to the replica once it
 * runs, and counts only when EC2 shows it there; the control plane hears the moment
 * (`address-moved`). On the old primary, the wait is bounded by its interruption (`not_after`) and the
 * agent steps down; on the promoted instance it is the primary now.
 */
export async function runPromoteReplica(
  ctx: ActionContext,
  command: Extract<Command, { command_type: 'promote_replica' }>,
): Promise<ActionResult> {
  const { self, clock, log, link } = ctx
  const target = command.replica_instance_id
  const onReplica = self.instanceId === target
  const notAfter = command.not_after ? Date.parse(command.not_after) : Number.NaN
  const endsAt = onReplica
    ? clock.now()
    : Number.isFinite(notAfter)
      ? notAfter - NOTICE_MARGIN_MS
      : clock.now() + PROMOTE_WAIT_MS
  const stepDown = (why: string) => {
    if (!onReplica) ctx.retire(`replica ${command.replica_id} promoted${why}`)
  }
  const claim = { kind: 'replica', replicaId: command.replica_id } as const
  try {
    // Checked even with no address to move: a refused promotion leaves this agent the primary.
    await assertOwned(ctx, target, claim)
    const address = await workloadAddress(ctx, command)
    if (!address) {
      stepDown('')
      return ok(`replica ${command.replica_id} promoted on ${target}; no Elastic IP to move`)
    }
    const movedAt = await moveAddress(ctx, address, target, endsAt, claim)
    link.report(
      `address-moved:${command.replica_id}`,
      'POST',
      `/replicas/${command.replica_id}/address-moved`,
      {
        public_ip: address.publicIp,
        allocation_id: address.allocationId,
        command_id: command.id,
      },
    )
    log.info('promote: Elastic IP on the replica', {
      public_ip: address.publicIp,
      to: target,
      at: new Date(movedAt).toISOString(),
    })
    stepDown('')
    return ok(`replica ${command.replica_id} promoted on ${target}; Elastic IP ${address.publicIp} moved`)
  } catch (err) {
    if (err instanceof LaunchError && (err.code === 'Timeout' || err.code === 'InstanceLost')) {
      // The promoted instance's agent finishes it (the control plane hands the command over); an
      // interrupted host is done anyway, a healthy one keeps serving what still points at it.
      if (Number.isFinite(notAfter)) stepDown(', not yet running')
      return fail('ReplicaNotRunning', `${target} did not run in time here: ${err.message}`)
    }
    if (err instanceof NotOwned) return fail(REFUSED, err.message)
    return fail('PromoteFailed', messageOf(err), err instanceof Ec2Error && err.retryable)
  }
}

/**
 * The workload's Elastic IP: found by the old primary's public IP the command names, else the one the
 * old primary holds while it runs (the IP the control plane knows may be the instance's own, when the
 * address moved onto it after it registered: a switch's new instance).
 */
async function workloadAddress(
  ctx: ActionContext,
  command: Extract<Command, { command_type: 'promote_replica' }>,
) {
  const named = command.old_public_ip ? await addressWithIp(ctx, command.old_public_ip) : null
  if (named) return named
  const onReplica = ctx.self.instanceId === command.replica_instance_id
  const old = command.old_instance_id ?? (onReplica ? null : ctx.self.instanceId)
  if (!old || old === command.replica_instance_id) return null
  const { address, left } = await addressToFollow(ctx, old)
  if (left.length > 0)
    ctx.log.warn('promote: only one Elastic IP can follow; these stay behind', {
      command_id: command.id,
      public_ips: left,
    })
  return address
}

/**
 * terminate_replica: ends the replica's instance, confirms, and reports it terminated; refuses (and
 * reports nothing) an instance not tagged as that replica of this workload.
 */
export async function runTerminateReplica(
  ctx: ActionContext,
  command: Extract<Command, { command_type: 'terminate_replica' }>,
): Promise<ActionResult> {
  const id = command.replica_instance_id
  try {
    if (id && id.startsWith('i-') && id !== ctx.self.instanceId) {
      const facts = await describeInstance(ctx.ec2, id)
      if (facts && facts.state !== 'terminated') {
        const refusal = refusalOf(
          facts,
          { kind: 'replica', replicaId: command.replica_id },
          ctx.logicalAgentId,
        )
        if (refusal) return fail(REFUSED, refusal)
        await terminateInstance(ctx.ec2, id)
        await confirmTerminated(ctx, id)
      }
    }
    ctx.link.report(
      `replica-status:${command.replica_id}:terminated`,
      'POST',
      `/replicas/${command.replica_id}/status`,
      {
        status: 'terminated',
      },
    )
    return ok(`replica ${command.replica_id} terminated${id ? ` (${id})` : ''}`)
  } catch (err) {
    return fail('TerminateFailed', messageOf(err), true)
  }
}
