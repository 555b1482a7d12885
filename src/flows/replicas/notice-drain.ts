/**
 * A stateful agent's drain on an interruption notice (issue 15, item 4), reported once it ended
 * (POST interruption-drain): its timed steps and the target groups the instance left go into the notice's
 * event (`detail.drainSteps`, `detail.drainTargetGroups`) and the steps into the interruption's switch
 * (the promotion's or the emergency replacement's: the switch away from the interrupted instance), in
 * front of the steps the switch already holds, so its page shows them. A report before any switch leaves
 * the steps in the event only. Idempotent: steps already on the switch are not added twice.
 * Writes: `events` (through flows/events.ts), `switches` (through flows/switch/store.ts).
 */
import { and, desc, eq, gte } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { switches, type Agent, type StatefulDetail } from '../../db/schema'
import { recordNoticeAnswer } from '../events'
import { setSwitchSteps } from '../switch/store'
import { findNotice } from './notice'

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
  const [sw] = await db
    .select({ id: switches.id, statefulDetail: switches.statefulDetail })
    .from(switches)
    .where(
      and(
        eq(switches.clientId, agent.clientId),
        eq(switches.agentId, agent.id),
        eq(switches.oldInstanceId, drain.instanceId),
        ...(notice ? [gte(switches.receivedAt, notice.receivedAt)] : []),
      ),
    )
    .orderBy(desc(switches.receivedAt))
    .limit(1)
  const writes = []
  if (notice) {
    const detail = isRecord(notice.detail) ? notice.detail : {}
    writes.push(
      recordNoticeAnswer(db, notice.id, {
        detail: {
          ...detail,
          drainSteps: drain.steps,
          drainTargetGroups: drain.targetGroups,
          drainRegisteredInstanceId: drain.registeredInstanceId,
        },
      }),
    )
  }
  if (sw) {
    const held = sw.statefulDetail ?? { steps: [], volumes: [], downtimeMs: null }
    const known = new Set(held.steps.map((s) => `${s.name}@${s.startedAt}`))
    const added = drain.steps.filter((s) => !known.has(`${s.name}@${s.startedAt}`))
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
