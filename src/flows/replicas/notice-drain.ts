/**
 * A stateful agent's drain on an interruption notice (issue 15, item 4), reported once it ended
 * (POST interruption-drain): its timed steps and the target groups the instance left go into the notice's
 * event (`detail.drainSteps`, `detail.drainTargetGroups`) and the steps into the interruption's switch
 * (the promotion's or the emergency replacement's: the switch away from the interrupted instance), in
 * front of the steps the switch already holds, so its page shows them. A report before any switch leaves
 * the steps in the event only. Idempotent: steps already on the switch are not added twice. The
 * replacement's own registration in those groups (`register_targets`, below) reports the same way.
 * Writes: `events` (through flows/events.ts), `switches` (through flows/switch/store.ts); tells the
 * replacement's agent `register_targets` (flows/tell.ts).
 */
import { and, desc, eq, gte } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { findAgent } from '../../db/queries/agent'
import { switches, type Agent, type StatefulDetail } from '../../db/schema'
import type { Env } from '../../env'
import { PRIORITY } from '../../protocol'
import { recordNoticeAnswer } from '../events'
import { setSwitchSteps } from '../switch/store'
import { tellAgent, understands } from '../tell'
import { findNotice, type NoticeEvent } from './notice'

export interface NoticeDrain {
  instanceId: string
  /** Agent clock, epoch ms; null when the notice had none. */
  terminationTime: number | null
  steps: StatefulDetail['steps']
  targetGroups: { targetGroupArn: string; port: number }[]
  /** The instance the agent registered in those groups (the promoted replica's), or null. */
  registeredInstanceId: string | null
}

export type DrainRecorded = { notice: boolean; switchId: string | null }

/** Records the drain; answers what it was attached to (nothing when neither the notice nor a switch is known). */
export async function recordNoticeDrain(
  db: Database,
  agent: Agent,
  drain: NoticeDrain,
): Promise<DrainRecorded> {
  const notice = await findNotice(db, agent, drain.instanceId, drain.terminationTime)
  const sw = await switchAwayFrom(db, agent, drain.instanceId, notice?.receivedAt ?? null)
  const writes = []
  if (notice) {
    const held = drainOf(notice)
    writes.push(
      recordNoticeAnswer(db, notice.id, {
        detail: {
          ...held.detail,
          // The interrupted agent's report and the replacement's registration add to each other.
          drainSteps: [...held.steps, ...newSteps(held.steps, drain.steps)],
          drainTargetGroups: drain.targetGroups.length > 0 ? drain.targetGroups : held.targetGroups,
          drainRegisteredInstanceId: drain.registeredInstanceId ?? held.registeredInstanceId,
        },
      }),
    )
  }
  if (sw) {
    const held = sw.statefulDetail ?? { steps: [], volumes: [], downtimeMs: null }
    // The event's steps too: a drain reported before the switch existed reaches it with the next report.
    const reported = notice ? [...drainOf(notice).steps, ...drain.steps] : drain.steps
    const added = newSteps(held.steps, reported)
    if (added.length > 0 || sw.statefulDetail === null)
      writes.push(
        setSwitchSteps(db, sw.id, {
          ...held,
          steps: [...added, ...held.steps].sort((a, b) => a.startedAt - b.startedAt),
        }),
      )
  }
  const [first, ...rest] = writes
  if (first) await db.batch([first, ...rest])
  return { notice: notice !== null, switchId: sw?.id ?? null }
}

/**
 * The interruption's replacement joins the target groups the interrupted instance's drain left: once
 * both the drain's report (its groups) and the switch to the replacement are recorded, in either order
 * (each one's arrival calls this; all of it is read from D1, so a restart in between loses nothing), the
 * replacement is told `register_targets` (reserved for it; its agent registers itself once its data is
 * back and reports the step here). Nothing when the drain registered it already (a promoted replica:
 * interruption-drain.ts), left no group, or the replacement no longer runs the workload (superseded).
 * Answers the command's id, or null.
 */
export async function rejoinReplacement(
  env: Env,
  db: Database,
  ref: Pick<Agent, 'clientId' | 'id'>,
  interruptedInstanceId: string,
): Promise<string | null> {
  const notice = await findNotice(db, ref, interruptedInstanceId)
  if (!notice) return null
  const drain = drainOf(notice)
  if (drain.targetGroups.length === 0) return null
  // Read again: the caller's row may predate the promotion that moved the agent.
  const agent = await findAgent(db, ref.clientId, ref.id)
  if (!agent?.instanceId || !understands(agent, 'register_targets')) return null
  const sw = await switchAwayFrom(db, agent, interruptedInstanceId, notice.receivedAt)
  const replacement = sw?.newInstanceId
  if (!sw || !replacement || replacement === interruptedInstanceId || agent.instanceId !== replacement)
    return null
  if (drain.registeredInstanceId === replacement) return null
  const result = await tellAgent(env, agent, {
    instanceId: replacement,
    commandType: 'register_targets',
    priority: PRIORITY.emergency,
    payload: {
      old_instance_id: interruptedInstanceId,
      termination_time:
        notice.terminationTime === null ? null : new Date(notice.terminationTime).toISOString(),
      target_groups: drain.targetGroups.map((g) => ({ target_group_arn: g.targetGroupArn, port: g.port })),
    },
    source: 'emergency',
    dedupeKey: `register_targets:${sw.id}`,
  })
  return result.ok || result.reason === 'duplicate' ? result.commandId : null
}

/** The newest switch away from `instanceId` (recorded since `since`, server epoch ms, when given). */
async function switchAwayFrom(
  db: Database,
  agent: Pick<Agent, 'clientId' | 'id'>,
  instanceId: string,
  since: number | null,
) {
  const [sw] = await db
    .select({
      id: switches.id,
      newInstanceId: switches.newInstanceId,
      statefulDetail: switches.statefulDetail,
    })
    .from(switches)
    .where(
      and(
        eq(switches.clientId, agent.clientId),
        eq(switches.agentId, agent.id),
        eq(switches.oldInstanceId, instanceId),
        ...(since === null ? [] : [gte(switches.receivedAt, since)]),
      ),
    )
    .orderBy(desc(switches.receivedAt))
    .limit(1)
  return sw ?? null
}

/** What the notice's event holds of its drain so far. */
function drainOf(notice: NoticeEvent) {
  const detail = isRecord(notice.detail) ? notice.detail : {}
  return {
    detail,
    steps: Array.isArray(detail.drainSteps) ? (detail.drainSteps as StatefulDetail['steps']) : [],
    targetGroups: Array.isArray(detail.drainTargetGroups)
      ? (detail.drainTargetGroups as NoticeDrain['targetGroups'])
      : [],
    registeredInstanceId:
      typeof detail.drainRegisteredInstanceId === 'string' ? detail.drainRegisteredInstanceId : null,
  }
}

/** The steps of `reported` not in `held` yet, each once (a step is its name and start). */
function newSteps(held: StatefulDetail['steps'], reported: StatefulDetail['steps']): StatefulDetail['steps'] {
  const known = new Set(held.map((s) => `${s.name}@${s.startedAt}`))
  return reported.filter((s) => {
    const key = `${s.name}@${s.startedAt}`
    if (known.has(key)) return false
    known.add(key)
    return true
  })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
