/**
 * Which workload this agent runs for (its logical id), and whether its instance is a standby replica.
 * An instance launched from a SpotGuard image boots with its source's env file and state, so the
 * identity comes, in this order, from: the instance's `LogicalAgentId` tag (SpotGuard tags every
 * instance it launches for a workload, and install.sh tags the first), the id registered before from
 * THIS instance (state cloned from another instance was reset by `State.claim`), the env file's
 * `LOGICAL_AGENT_ID`, and last the instance id (a workload installed without any of them).
 */
import { backoffMs, type Clock } from './clock'
import { Ec2Error, type Ec2 } from './ec2-transport'
import { describeInstance, type Tags } from './ec2-operations'
import type { Imds } from './imds'

export const LOGICAL_ID_TAG = 'LogicalAgentId'
/** Set on every replica SpotGuard launches: its agent stays passive until the control plane promotes it. */
export const REPLICA_ID_TAG = 'ReplicaId'
/** Where IMDS lists the instance's tags when instance metadata tags are enabled (else 404). */
const IMDS_TAGS = 'meta-data/tags/instance'
/** The tags the agent reads: its identity, a replica's mark, and SpotGuard's own (install.sh checks it). */
const READ_TAGS = [LOGICAL_ID_TAG, REPLICA_ID_TAG, 'ManagedBy']

export type IdentitySource = 'tag' | 'state' | 'env' | 'instance'

export interface LogicalIdentity {
  logicalAgentId: string
  source: IdentitySource
  /** The `ReplicaId` tag: this instance is a replica of the workload (null: it is not, or unknown). */
  replicaId: string | null
}

/** The instance's tags and where they were read; `tags: null` when neither IMDS nor EC2 would say. */
export type InstanceTags = { tags: Tags; via: 'imds' | 'ec2' } | { tags: null; why: string }

/** Attempts before the tags count as unreadable (an instance without a profile must still register). */
const TAG_READ_ATTEMPTS = 3

/**
 * The instance's own tags: from IMDS when instance metadata tags are enabled, else from EC2
 * (DescribeInstances on itself). Failures are retried a few times; then `tags: null`, never a throw.
 */
export async function readInstanceTags(
  imds: Imds,
  ec2: Ec2,
  instanceId: string,
  clock: Clock,
  signal: AbortSignal,
): Promise<InstanceTags> {
  let why = 'not read'
  for (let attempt = 0; attempt < TAG_READ_ATTEMPTS && !signal.aborted; attempt++) {
    try {
      return await readOnce(imds, ec2, instanceId)
    } catch (err) {
      why = err instanceof Error ? err.message : String(err)
      // A refusal does not change by asking again.
      if (err instanceof Ec2Error && err.kind === 'unauthorized') break
      await clock.sleep(backoffMs(attempt, 1_000, 4_000), signal)
    }
  }
  return { tags: null, why }
}

async function readOnce(imds: Imds, ec2: Ec2, instanceId: string): Promise<InstanceTags> {
  const listing = await imds.get(IMDS_TAGS)
  if (listing !== null) {
    const tags: Tags = {}
    const keys = listing.split('\n').map((k) => k.trim())
    for (const key of READ_TAGS.filter((k) => keys.includes(k))) {
      const value = await imds.get(`${IMDS_TAGS}/${key}`)
      if (value !== null) tags[key] = value.trim()
    }
    return { tags, via: 'imds' }
  }
  const self = await describeInstance(ec2, instanceId)
  return self ? { tags: self.tags, via: 'ec2' } : { tags: null, why: `EC2 does not know ${instanceId}` }
}

/** Picks the logical id by the order above. */
export function chooseIdentity(
  tags: Tags | null,
  registeredHere: string | null,
  configured: string | null,
  instanceId: string,
): LogicalIdentity {
  const replicaId = tags?.[REPLICA_ID_TAG]?.trim() || null
  const tagged = tags?.[LOGICAL_ID_TAG]?.trim()
  if (tagged) return { logicalAgentId: tagged, source: 'tag', replicaId }
  if (registeredHere) return { logicalAgentId: registeredHere, source: 'state', replicaId }
  if (configured) return { logicalAgentId: configured, source: 'env', replicaId }
  return { logicalAgentId: instanceId, source: 'instance', replicaId }
}

/** The instance's tags and the identity they give, by the order above. */
export async function findIdentity(
  deps: { imds: Imds; ec2: Ec2; clock: Clock; signal: AbortSignal },
  instanceId: string,
  registeredHere: string | null,
  configured: string | null,
): Promise<{ identity: LogicalIdentity; tags: InstanceTags }> {
  const tags = await readInstanceTags(deps.imds, deps.ec2, instanceId, deps.clock, deps.signal)
  return { identity: chooseIdentity(tags.tags, registeredHere, configured, instanceId), tags }
}
