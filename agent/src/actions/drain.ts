/**
 * Draining before the workload moves (issue 15, item 4; stateful mode only). Before a switch and on a notice
 * the instance leaves the ELBv2 target groups it serves in (waiting while they drain, never past the
 * limit it is given), the pre-switch hook runs and the drain unit stops; after the switch the new
 * instance joins the same groups on the same ports and the post-switch hook runs. Every step is timed
 * for the switch-report's `stateful.steps`. No step is fatal: a failure is recorded and the move goes on.
 */
import type { AgentConfig } from '../../../src/protocol'
import { iso } from '../clock'
import {
  deregisterTargets,
  describeTargetGroups,
  describeTargetHealth,
  registerTargets,
  type Membership,
} from '../elbv2'
import type { Execution } from '../host'
import { messageOf, type ActionContext } from './context'

/** The drain's steps, named as the switch-report's `stateful.steps` (contract of issue 15). */
export type DrainStepName =
  'deregister_targets' | 'pre_switch_hook' | 'stop_unit' | 'register_targets' | 'post_switch_hook'

/** Any step of the switch-report's `stateful.steps`: the drain's and the stateful move's (stateful/move.ts). */
export type StepName =
  | DrainStepName
  | 'detach_volumes'
  | 'attach_volumes'
  | 'move_interface'
  | 'snapshot_volumes'
  | 'create_volumes'
  | 'new_interface'

export interface Step {
  name: StepName
  /** ISO-8601 */
  started_at: string
  ms: number
  ok: boolean
  detail?: string
}

export interface DrainSettings {
  targetGroups: boolean
  /** Systemd unit stopped after the hook; null: none. */
  unit: string | null
  hookTimeoutMs: number
}

/** What the drain did, and where the instance served (the new one joins the same groups and ports). */
export interface Drained {
  steps: Step[]
  memberships: Membership[]
}

/** Epoch ms: the wait for draining targets ends at `drainUntil`; the hook and the unit stop by `endBy`. */
export interface DrainLimits {
  drainUntil: number
  endBy: number
}

/** Before a switch the targets get ELBv2's default deregistration delay to drain, at most. */
export const SWITCH_DRAIN_MS = 300_000
/** Systemd's default stop timeout (DefaultTimeoutStopSec). */
const UNIT_STOP_MS = 90_000
/** On a notice, everything ends this long before the termination time. */
export const NOTICE_MARGIN_MS = 10_000
/** On a notice the unit gets this much, not systemd's full stop timeout. */
const NOTICE_UNIT_STOP_MS = 20_000
const DRAIN_POLL_MS = 5_000

/**
 * The drain this agent's settings ask for, or null. Only the stateful mode drains (off by default; an
 * older control plane sends no setting): `drain_target_groups` defaults to true, so reading it alone
 * would make every agent call ELBv2. A stateless agent moves as it always did.
 */
export function drainSettingsOf(config: AgentConfig | null): DrainSettings | null {
  if (config?.stateful !== true) return null
  return {
    targetGroups: config.drain_target_groups !== false,
    unit: config.drain_unit ?? null,
    hookTimeoutMs: (config.hook_timeout_seconds ?? 30) * 1000,
  }
}

/** Limits before a switch: nothing presses but the targets' own draining. */
export function switchLimits(now: number): DrainLimits {
  return { drainUntil: now + SWITCH_DRAIN_MS, endBy: Number.POSITIVE_INFINITY }
}

/**
 * Limits on a notice of termination at `deadline` (epoch ms): all ends NOTICE_MARGIN_MS before it,
 * and the wait for draining leaves the hook its timeout and the unit its stop time.
 */
export function noticeLimits(settings: DrainSettings, now: number, deadline: number): DrainLimits {
  const endBy = deadline - NOTICE_MARGIN_MS
  const after = settings.hookTimeoutMs + (settings.unit ? NOTICE_UNIT_STOP_MS : 0)
  return { drainUntil: Math.max(now, endBy - after), endBy }
}

/** Leaves the target groups, runs the pre-switch hook, stops the unit; `reason` is the hook's argument. */
export async function drain(
  ctx: ActionContext,
  settings: DrainSettings,
  reason: 'switch' | 'interruption',
  limits: DrainLimits,
): Promise<Drained> {
  const steps: Step[] = []
  let memberships: Membership[] = []
  if (settings.targetGroups) {
    const step = await timed(ctx, 'deregister_targets', async () => {
      memberships = await membershipsOf(ctx, ctx.self.instanceId)
      if (memberships.length === 0) return { ok: true, detail: 'in no target group' }
      for (const [arn, ports] of byGroup(memberships))
        await deregisterTargets(
          ctx.elbv2,
          arn,
          ports.map((port) => ({ id: ctx.self.instanceId, port })),
        )
      const left = await waitDrained(ctx, memberships, limits.drainUntil)
      const groups = byGroup(memberships).size
      return {
        ok: true,
        detail:
          left === 0
            ? `deregistered from ${groups} target group(s), drained`
            : `deregistered from ${groups} target group(s); ${left} target(s) still draining at the time limit`,
      }
    })
    // An instance behind no load balancer has no such step to show.
    if (memberships.length > 0 || !step.ok) steps.push(step)
  }
  const hook = await runHook(ctx, 'pre-switch', [reason], settings.hookTimeoutMs, limits.endBy)
  if (hook) steps.push(hook)
  if (settings.unit) {
    const unit = settings.unit
    const budget = Math.min(
      reason === 'switch' ? UNIT_STOP_MS : NOTICE_UNIT_STOP_MS,
      limits.endBy - ctx.clock.now(),
    )
    steps.push(
      await timed(ctx, 'stop_unit', async () => {
        if (budget <= 0) return { ok: false, detail: `no time left to stop ${unit}` }
        const run = await executeWithin(ctx, 'systemctl', ['stop', unit], budget)
        return outcomeOf(run, `systemctl stop ${unit}`, budget)
      }),
    )
  }
  return { steps, memberships }
}

/**
 * After the switch: `instanceId` (the new instance) joins the groups the old one left; the post-switch
 * hook runs, killed at `endBy` (epoch ms: an interrupted host's end) if its timeout is later.
 */
export async function rejoin(
  ctx: ActionContext,
  settings: DrainSettings,
  instanceId: string,
  memberships: Membership[],
  endBy = Number.POSITIVE_INFINITY,
): Promise<Step[]> {
  const steps: Step[] = []
  if (memberships.length > 0) {
    steps.push(
      await timed(ctx, 'register_targets', async () => {
        for (const [arn, ports] of byGroup(memberships))
          await registerTargets(
            ctx.elbv2,
            arn,
            ports.map((port) => ({ id: instanceId, port })),
          )
        return {
          ok: true,
          detail: `${instanceId} registered in ${byGroup(memberships).size} target group(s)`,
        }
      }),
    )
  }
  const hook = await runHook(ctx, 'post-switch', [instanceId], settings.hookTimeoutMs, endBy)
  if (hook) steps.push(hook)
  return steps
}

/** A switch that failed after draining: this instance serves again (groups, unit); best effort. */
export async function undrain(ctx: ActionContext, settings: DrainSettings, drained: Drained): Promise<void> {
  try {
    for (const [arn, ports] of byGroup(drained.memberships))
      await registerTargets(
        ctx.elbv2,
        arn,
        ports.map((port) => ({ id: ctx.self.instanceId, port })),
      )
    if (settings.unit) {
      const run = await executeWithin(ctx, 'systemctl', ['start', settings.unit], UNIT_STOP_MS)
      const outcome = outcomeOf(run, `systemctl start ${settings.unit}`, UNIT_STOP_MS)
      if (!outcome.ok) throw new Error(outcome.detail)
    }
  } catch (err) {
    ctx.log.error('drain: could not serve again after the failed switch', { error: messageOf(err) })
  }
}

/**
 * The switch-report's `stateful` object of a drain and, for a stateful switch, of the parts it moved
 * (stateful/move.ts; absent when no step ran). Moved volumes lose no data (bound 0).
 */
export function statefulReport<V, A>(steps: Step[], moved?: { volumes: V[]; address: A | null }) {
  if (steps.length === 0) return undefined
  // Out of service from the first step to the last that put the workload back: the new instance's
  // registration, else its volumes and address in place.
  const back = steps.filter(
    (s) =>
      s.ok &&
      (s.name === 'register_targets' ||
        s.name === 'attach_volumes' ||
        s.name === 'move_interface' ||
        s.name === 'new_interface'),
  )
  const servesAgain = back.find((s) => s.name === 'register_targets') ?? back.at(-1)
  const downtime = servesAgain
    ? Date.parse(servesAgain.started_at) + servesAgain.ms - Date.parse(steps[0]!.started_at)
    : undefined
  return {
    steps,
    ...(downtime === undefined ? {} : { downtime_ms: downtime }),
    data_loss_bound_seconds: moved && moved.volumes.length > 0 ? 0 : null,
    address: moved?.address ?? null,
    volumes: moved?.volumes ?? [],
  }
}

/** Where the instance is registered (draining or unused ones are not), in groups of instance targets. */
async function membershipsOf(ctx: ActionContext, instanceId: string): Promise<Membership[]> {
  const out: Membership[] = []
  for (const group of await describeTargetGroups(ctx.elbv2)) {
    if (group.targetType !== 'instance') continue
    for (const t of await describeTargetHealth(ctx.elbv2, group.arn))
      if (t.id === instanceId && t.state !== 'draining' && t.state !== 'unused')
        out.push({ targetGroupArn: group.arn, port: t.port })
  }
  return out
}

/** Polls until no membership is draining or `until` (epoch ms); answers how many still drain. */
async function waitDrained(ctx: ActionContext, memberships: Membership[], until: number): Promise<number> {
  const { clock, elbv2, self } = ctx
  for (;;) {
    let draining = 0
    for (const [arn, ports] of byGroup(memberships)) {
      const states = await describeTargetHealth(
        elbv2,
        arn,
        ports.map((port) => ({ id: self.instanceId, port })),
      )
      draining += states.filter((s) => s.state === 'draining').length
    }
    const left = until - clock.now()
    if (draining === 0 || left <= 0 || ctx.signal.aborted) return draining
    await clock.sleep(Math.min(DRAIN_POLL_MS, left), ctx.signal)
  }
}

/** Runs `<hooksDir>/<name>` when it is there, killed after its timeout (or at `endBy`); null when absent. */
async function runHook(
  ctx: ActionContext,
  name: 'pre-switch' | 'post-switch',
  args: string[],
  timeoutMs: number,
  endBy: number,
): Promise<Step | null> {
  const path = `${ctx.config.hooksDir}/${name}`
  const found = await ctx.host.probe(path)
  if (found === 'absent') return null
  return timed(ctx, name === 'pre-switch' ? 'pre_switch_hook' : 'post_switch_hook', async () => {
    if (found === 'not_executable') return { ok: false, detail: `${path} is not executable` }
    const budget = Math.min(timeoutMs, endBy - ctx.clock.now())
    if (budget <= 0) return { ok: false, detail: 'no time left to run it' }
    const run = await executeWithin(ctx, path, args, budget)
    if (run.kind !== 'failed_to_start')
      ctx.log.info(`drain: ${name} hook output`, { stdout: run.stdout, stderr: run.stderr })
    return outcomeOf(run, name, budget)
  })
}

/** Runs a program on the host, killed when `budgetMs` of the agent's clock have passed. */
async function executeWithin(
  ctx: ActionContext,
  program: string,
  args: string[],
  budgetMs: number,
): Promise<Execution> {
  const timeout = new AbortController()
  const finished = new AbortController()
  void ctx.clock.sleep(budgetMs, finished.signal).then(() => {
    if (!finished.signal.aborted) timeout.abort()
  })
  try {
    return await ctx.host.execute(program, args, timeout.signal)
  } finally {
    finished.abort()
  }
}

function outcomeOf(run: Execution, what: string, budgetMs: number): { ok: boolean; detail: string } {
  switch (run.kind) {
    case 'exited':
      return run.code === 0
        ? { ok: true, detail: `${what}: exit 0` }
        : {
            ok: false,
            detail: `${what}: exit ${run.code}${run.stderr.trim() ? `: ${run.stderr.trim().slice(-300)}` : ''}`,
          }
    case 'killed':
      return {
        ok: false,
        detail:
          run.by === 'timeout'
            ? `${what}: killed after its ${Math.round(budgetMs / 1000)} s timeout`
            : `${what}: killed by ${run.by}`,
      }
    case 'failed_to_start':
      return { ok: false, detail: `${what}: did not start: ${run.message}` }
    default: {
      const never: never = run
      return never
    }
  }
}

/** Runs one step and times it; a throw is the step's failure, never the caller's. */
export async function timed(
  ctx: ActionContext,
  name: StepName,
  run: () => Promise<{ ok: boolean; detail: string }>,
): Promise<Step> {
  const startedAt = ctx.clock.now()
  let outcome: { ok: boolean; detail: string }
  try {
    outcome = await run()
  } catch (err) {
    outcome = { ok: false, detail: messageOf(err) }
  }
  const step: Step = {
    name,
    started_at: iso(startedAt),
    ms: ctx.clock.now() - startedAt,
    ok: outcome.ok,
    detail: outcome.detail,
  }
  if (step.ok) ctx.log.info(`drain: ${name}`, { ms: step.ms, detail: step.detail })
  else ctx.log.warn(`drain: ${name} failed`, { ms: step.ms, detail: step.detail })
  return step
}

function byGroup(memberships: Membership[]): Map<string, number[]> {
  const groups = new Map<string, number[]>()
  for (const m of memberships) groups.set(m.targetGroupArn, [...(groups.get(m.targetGroupArn) ?? []), m.port])
  return groups
}
