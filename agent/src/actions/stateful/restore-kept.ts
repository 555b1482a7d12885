/**
 * What a restore left behind (restore.ts), deleted by policy once the restore is confirmed (issue 15,
 * item 1): the live volume and the interface left in the other AZ, and a promoted replica's copy set
 * aside, each tagged SpotGuardKeep=policy, a replaced role and this agent's id. Confirmed means the
 * control plane has the restore's report (its outbox key delivered, as a switch across AZs waits for its
 * own before deleteKeptParts). Nothing else is kept across restarts: EC2's tags say what is left to delete
 * and the persisted outbox whether the report landed, so a restart (the control plane was down) deletes
 * them then. A part still attached (to the interrupted instance, until EC2 frees it at its end) is never
 * forced off: waited for until the restore's release deadline, else left for a later start.
 */
import { describeInstance } from '../../ec2-operations'
import { messageOf, type ActionContext } from '../context'
import { factsOfTags } from '../emergency-tags'
import { LaunchError, pollUntil } from '../launch'
import { deleteKept, type KeptParts } from './kept'
import { RELEASE_WAIT_MS, REPLACED_ROLE, restoreReportKey, type Restored } from './restore'
import { AGENT_ID_TAG, ROLE_TAG } from './snapshots-retention'

const POLL_MAX_MS = 10_000

/**
 * After the stateful start's restore (`restored`: its outcome, null when there was nothing to take):
 * once its report landed, deletes what it left behind. Only a complete restore's (every step ok): a
 * failed one may have set the live volume aside without a copy of it. Never rejects (errors are logged).
 */
export async function deleteKeptAfterRestore(ctx: ActionContext, restored: Restored | null): Promise<void> {
  try {
    if (restored && !restored.steps.every((s) => s.ok)) return
    const agentId = ctx.link.agentId
    const me = await describeInstance(ctx.ec2, ctx.self.instanceId)
    const tagged = me ? factsOfTags(me.tags) : null
    if (!agentId || !tagged || tagged.facts.old.instanceId === ctx.self.instanceId) return
    const { facts } = tagged
    if (!(await ctx.link.delivered(restoreReportKey(facts)))) {
      ctx.log.warn('stateful: the restore report was refused; what it left behind stays kept', {
        notice_id: facts.noticeId,
      })
      return
    }
    const kept = replacedBy(agentId)
    const until = (facts.oldEndsAt ?? facts.detectedAt) + RELEASE_WAIT_MS
    await pollUntil(
      ctx,
      'the parts the restore left behind free',
      Math.max(0, until - ctx.clock.now()),
      async () => ((await deleteKept(ctx, kept, 'leave')).attached.length === 0 ? true : null),
      POLL_MAX_MS,
    ).catch((err: unknown) => {
      if (!(err instanceof LaunchError)) throw err
      ctx.log.warn('stateful: parts the restore left behind still attached; a later start deletes them', {
        notice_id: facts.noticeId,
      })
    })
  } catch (err) {
    ctx.log.error('stateful: what the restore left behind not deleted', { error: messageOf(err) })
  }
}

/** This agent's volumes and interfaces a restore set aside. */
function replacedBy(agentId: string): KeptParts {
  const mine = { name: `tag:${AGENT_ID_TAG}`, values: [agentId] }
  return {
    volumes: [mine, { name: `tag:${ROLE_TAG}`, values: [REPLACED_ROLE.volume] }],
    interfaces: [mine, { name: `tag:${ROLE_TAG}`, values: [REPLACED_ROLE.iface] }],
  }
}
