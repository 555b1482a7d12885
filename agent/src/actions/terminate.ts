/** Terminating an instance the agent is told to end (the old one after a switch, a replica) and confirming it. */
import type { Command } from '../../../src/protocol'
import { describeInstance, terminateInstance } from '../ec2-operations'
import { fail, messageOf, ok, type ActionContext, type ActionResult } from './context'
import { pollUntil } from './launch'
import { REFUSED, refusalOf } from './ownership'

/** Waits until EC2 reports the instance shutting down or gone (the host may die during the wait). */
export async function confirmTerminated(ctx: ActionContext, instanceId: string): Promise<void> {
  await pollUntil(ctx, `${instanceId} terminated`, 10 * 60_000, async () => {
    const facts = await describeInstance(ctx.ec2, instanceId)
    return !facts || facts.state === 'terminated' || facts.state === 'shutting-down' ? true : null
  })
}

/**
 * terminate_instance: ends another instance of this workload, e.g. the old one after a switch (never
 * this one), only when its tags make it this workload's (ownership.ts): the switch tagged it.
 */
export async function runTerminateInstance(
  ctx: ActionContext,
  command: Extract<Command, { command_type: 'terminate_instance' }>,
): Promise<ActionResult> {
  const id = command.target_instance_id
  if (id === ctx.self.instanceId)
    return fail('RefusedSelf', 'refusing to terminate the instance the agent runs on')
  try {
    const facts = await describeInstance(ctx.ec2, id)
    if (!facts || facts.state === 'terminated') return ok(`${id} already terminated`)
    const refusal = refusalOf(facts, { kind: 'workload' }, ctx.logicalAgentId)
    if (refusal) return fail(REFUSED, refusal)
    await terminateInstance(ctx.ec2, id)
    await confirmTerminated(ctx, id)
    return ok(`${id} terminated (${command.reason})`)
  } catch (err) {
    return fail('TerminateFailed', messageOf(err), true)
  }
}
