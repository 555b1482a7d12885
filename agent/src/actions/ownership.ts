/**
 * What the agent may end, or move the workload's network identity to. The control plane names
 * instance ids (a replica's, the old host's after a switch), and whoever holds a client token can
 * record any id there; the control plane cannot call EC2, so this check is the guard: before
 * TerminateInstances or AssociateAddress the agent reads the target's tags from EC2 and acts only on
 * an instance SpotGuard tagged as this workload's (`ManagedBy=SpotOptimizer`, its own
 * `LogicalAgentId`) and, for a replica command, as that replica (`ReplicaId`). Every launch path
 * tags what it starts so (launch.ts, replica.ts) and tags its own host before it launches anything
 * (`tagAsWorkload`). docs/trust-model.md says who can make the agent do what.
 */
import { createTags, describeInstance, type InstanceFacts } from '../ec2-operations'
import type { ActionContext } from './context'

export const MANAGED_BY = 'SpotOptimizer'
/** The ActionResult code of a refused call. */
export const REFUSED = 'Refused'

/** What the target must be tagged as: an instance of this agent's workload, or its replica `replicaId`. */
export type Claim = { kind: 'workload' } | { kind: 'replica'; replicaId: string }

/** The instance is not tagged as the claim says: nothing was called on it. */
export class NotOwned extends Error {
  readonly code = REFUSED
  constructor(message: string) {
    super(message)
    this.name = 'NotOwned'
  }
}

/** Why `facts` is not this agent's `claim` (a sentence naming the tag that differs); null when it is. */
export function refusalOf(facts: InstanceFacts, claim: Claim, logicalAgentId: string): string | null {
  const { tags } = facts
  const wanted: [string, string][] = [
    ['ManagedBy', MANAGED_BY],
    ['LogicalAgentId', logicalAgentId],
  ]
  if (claim.kind === 'replica') wanted.push(['ReplicaId', claim.replicaId])
  const differs = wanted.find(([key, value]) => tags[key] !== value)
  if (!differs) return null
  const [key] = differs
  const found = tags[key] === undefined ? 'missing' : `is ${JSON.stringify(tags[key])}`
  return `${facts.instanceId} is not tagged as ${claimName(claim, logicalAgentId)} (${key} ${found})`
}

function claimName(claim: Claim, logicalAgentId: string): string {
  switch (claim.kind) {
    case 'workload':
      return `an instance of this agent's workload ${logicalAgentId}`
    case 'replica':
      return `this agent's replica ${claim.replicaId}`
    default: {
      const never: never = claim
      return never
    }
  }
}

/** Reads `instanceId` from EC2; throws NotOwned unless EC2 knows it and its tags make it the claim. */
export async function assertOwned(
  ctx: Pick<ActionContext, 'ec2' | 'logicalAgentId'>,
  instanceId: string,
  claim: Claim,
): Promise<InstanceFacts> {
  const facts = await describeInstance(ctx.ec2, instanceId)
  if (!facts) throw new NotOwned(`EC2 does not know ${instanceId}`)
  const refusal = refusalOf(facts, claim, ctx.logicalAgentId)
  if (refusal) throw new NotOwned(refusal)
  return facts
}

/**
 * Tags the agent's own host (described as `self`) as this workload's when it is not yet: an
 * original instance adopted untagged must carry what the check needs before anything moves the
 * workload away from it (a replica's agent promoting itself, the next host ending it after a switch).
 */
export async function tagAsWorkload(
  ctx: Pick<ActionContext, 'ec2' | 'logicalAgentId'>,
  self: InstanceFacts,
): Promise<void> {
  if (refusalOf(self, { kind: 'workload' }, ctx.logicalAgentId) === null) return
  await createTags(ctx.ec2, [self.instanceId], {
    ManagedBy: MANAGED_BY,
    LogicalAgentId: ctx.logicalAgentId,
  })
}
