/**
 * `--adopt-identity [ID]`, run by install.sh: settles the logical id this instance's agent registers
 * with (ID when given, else identity.ts's order: tag, this instance's state, LOGICAL_AGENT_ID, the
 * instance id), prints it alone on stdout (install.sh writes it into the env file), and tags the
 * instance `LogicalAgentId=<id>` with `ManagedBy=SpotOptimizer` (the IAM policy grants CreateTags on an
 * instance only for a request carrying that tag) so every instance launched from its images carries
 * it. A tag it cannot write is said on stderr; the id is still printed. Exit 1 without IMDS.
 */
import { systemClock } from './clock'
import { ConfigError, loadConfig } from './config'
import { environmentCredentials, instanceProfileCredentials } from './credentials'
import { createEc2 } from './ec2-transport'
import { createTags } from './ec2-operations'
import { findIdentity, LOGICAL_ID_TAG } from './identity'
import { createImds } from './imds'
import { createLog } from './log'
import { registeredLogicalId } from './state'

/** EC2's limit on a tag value. */
const MAX_TAG_VALUE = 256

export async function runAdoptIdentity(
  env: Record<string, string | undefined>,
  wanted: string | null,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  let config
  try {
    config = loadConfig(env)
  } catch (e) {
    err(`spotguard-agent: ${e instanceof ConfigError ? e.message : String(e)}`)
    return 78
  }
  const id = wanted?.trim() || null
  if (wanted !== null && (!id || id.length > MAX_TAG_VALUE)) {
    err(`spotguard-agent: a logical id is 1-${MAX_TAG_VALUE} characters`)
    return 1
  }
  const imds = createImds(config.imdsEndpoint, systemClock)
  let self
  try {
    self = await imds.identity()
  } catch (e) {
    err(
      `spotguard-agent: instance metadata (IMDSv2) unreachable: ${e instanceof Error ? e.message : String(e)}`,
    )
    return 1
  }
  const credentials = environmentCredentials(env) ?? instanceProfileCredentials(imds, systemClock)
  const log = createLog('error', () => {})
  const ec2 = createEc2({
    region: self.region,
    endpoint: config.ec2Endpoint,
    credentials,
    clock: systemClock,
    log,
    dryRun: config.dryRun,
  })
  const { identity, tags } = await findIdentity(
    { imds, ec2, clock: systemClock, signal: new AbortController().signal },
    self.instanceId,
    registeredLogicalId(config.stateDir, self.instanceId),
    config.logicalAgentId,
  )
  const logicalAgentId = id ?? identity.logicalAgentId
  const tagged = tags.tags?.[LOGICAL_ID_TAG] === logicalAgentId && tags.tags.ManagedBy === 'SpotOptimizer'
  if (tagged) {
    err(`${self.instanceId} is tagged ${LOGICAL_ID_TAG}=${logicalAgentId}`)
  } else {
    try {
      await createTags(ec2, [self.instanceId], {
        ManagedBy: 'SpotOptimizer',
        [LOGICAL_ID_TAG]: logicalAgentId,
      })
      err(`${self.instanceId} tagged ${LOGICAL_ID_TAG}=${logicalAgentId}`)
    } catch (e) {
      err(
        `could not tag ${self.instanceId} ${LOGICAL_ID_TAG}=${logicalAgentId} (${e instanceof Error ? e.message : String(e)}); the env file keeps the id`,
      )
    }
  }
  out(logicalAgentId)
  return 0
}
