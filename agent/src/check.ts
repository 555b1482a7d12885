/**
 * `--check`: a readable report of config, IMDS, the logical identity, credentials, every AWS permission
 * the agent needs (permissions.ts) and the control plane; pass/fail as the exit code. Missing
 * permissions are named on one last line; one the agent does without is a warning (permissions.ts).
 */
import { systemClock } from './clock'
import { ConfigError, describeConfig, loadConfig } from './config'
import { environmentCredentials, instanceProfileCredentials } from './credentials'
import { createEc2 } from './ec2-transport'
import { createElbv2 } from './elbv2'
import { findIdentity } from './identity'
import { createImds, type Identity } from './imds'
import { createLog, memoryLog } from './log'
import { send } from './net/request'
import { provePermissions, type ProofOutcome } from './permissions'
import { createPricing } from './pricing'
import { registeredLogicalId } from './state'
import { AGENT_VERSION } from './version'

type Status = 'ok' | 'fail' | 'skip' | 'warn'
type Line = { name: string; status: Status; detail: string }

const MARK: Record<Status, string> = { ok: '[ OK ]', fail: '[FAIL]', skip: '[SKIP]', warn: '[WARN]' }
const STATUS_OF: Record<ProofOutcome, Status> = {
  allowed: 'ok',
  missing: 'fail',
  failed: 'fail',
  skipped: 'skip',
  degraded: 'warn',
}

/**
 * Runs every check; prints the report through `print`; answers true when all passed. `stateful`
 * (`--check --stateful`): the stateful mode's permissions are required, as they are once it runs here.
 */
export async function runCheck(
  env: Record<string, string | undefined>,
  print: (line: string) => void,
  options: { stateful?: boolean } = {},
): Promise<boolean> {
  const lines: Line[] = []
  const missing: string[] = []
  const missingOptional: string[] = []
  const add = (name: string, ok: boolean, detail: string) =>
    lines.push({ name, status: ok ? 'ok' : 'fail', detail })
  const show = () => {
    print(`SpotGuard agent ${AGENT_VERSION} check`)
    for (const l of lines) print(`  ${MARK[l.status]} ${l.name}: ${l.detail}`)
    if (missingOptional.length > 0)
      print(`Missing for the stateful mode only (draining, snapshots): ${missingOptional.join(', ')}`)
    if (missing.length > 0) print(`Missing permissions: ${missing.join(', ')}`)
    const passed = lines.every((l) => l.status !== 'fail')
    print(passed ? 'All checks passed.' : 'Some checks failed.')
    return passed
  }

  let config
  try {
    config = loadConfig(env)
    const shown = describeConfig(config)
    add(
      'configuration',
      true,
      `server ${config.serverUrl}, token ${String(shown.token)}, state dir ${config.stateDir}${config.dryRun ? ', DRY RUN' : ''}`,
    )
  } catch (err) {
    add('configuration', false, err instanceof ConfigError ? err.problems.join('; ') : String(err))
    return show()
  }

  const log = createLog('error', () => {})
  const imds = createImds(config.imdsEndpoint, systemClock)
  let self: Identity | null = null
  try {
    self = await imds.identity()
    add(
      'instance metadata (IMDSv2)',
      true,
      `${self.instanceId} ${self.instanceType} ${self.mode} in ${self.az}`,
    )
    if (config.configuredRegion && config.configuredRegion !== self.region) {
      add(
        'region',
        true,
        `AWS_REGION=${config.configuredRegion} disagrees with IMDS (${self.region}); IMDS wins`,
      )
    }
  } catch (err) {
    add('instance metadata (IMDSv2)', false, err instanceof Error ? err.message : String(err))
  }

  const credentials = environmentCredentials(env) ?? instanceProfileCredentials(imds, systemClock)
  try {
    const creds = await credentials.get()
    add(
      'AWS credentials',
      true,
      creds.expiresAt
        ? `instance profile, expire ${new Date(creds.expiresAt).toISOString()}`
        : 'from the environment',
    )
    const region = self?.region ?? config.configuredRegion
    if (region) {
      const ec2 = createEc2({
        region,
        endpoint: config.ec2Endpoint,
        credentials,
        clock: systemClock,
        log,
        dryRun: config.dryRun,
      })
      await ec2.read('DescribeAvailabilityZones', {})
      add('EC2 API', true, `reachable in ${region}`)
      if (self) {
        const { identity } = await findIdentity(
          { imds, ec2, clock: systemClock, signal: new AbortController().signal },
          self.instanceId,
          registeredLogicalId(config.stateDir, self.instanceId),
          config.logicalAgentId,
        )
        add(
          'logical identity',
          true,
          `${identity.logicalAgentId} (from ${SOURCES[identity.source]}${identity.replicaId ? `; replica ${identity.replicaId}` : ''})`,
        )
        const pricingLog = memoryLog()
        const pricing = createPricing({
          ec2,
          credentials,
          clock: systemClock,
          log: pricingLog,
          endpoint: config.pricingEndpoint,
        })
        const { instanceType } = self
        const priceList = async () => {
          if ((await pricing.onDemandPrice(instanceType, region)) !== null) return
          const warning = pricingLog.lines.find((l) => l.msg === 'on-demand price unavailable')
          throw new Error(
            warning
              ? `GetProducts failed: ${JSON.stringify(warning.error)}`
              : `no on-demand price of ${instanceType} in ${region}`,
          )
        }
        const elbv2 = createElbv2({
          region,
          endpoint: config.elbv2Endpoint,
          credentials,
          clock: systemClock,
          log,
          dryRun: config.dryRun,
        })
        const proofs = await provePermissions({
          ec2,
          elbv2,
          self,
          logicalAgentId: identity.logicalAgentId,
          priceList,
          now: Date.now(),
          stateful: options.stateful === true,
        })
        for (const p of proofs) {
          const status = p.optional && p.outcome !== 'allowed' ? 'skip' : STATUS_OF[p.outcome]
          lines.push({ name: p.permission, status, detail: p.detail })
          if (p.outcome === 'missing') (p.optional ? missingOptional : missing).push(p.permission)
        }
      }
    }
  } catch (err) {
    add('AWS credentials / EC2 API', false, err instanceof Error ? err.message : String(err))
  }

  try {
    const health = await send(`${config.serverUrl}/health`, { timeoutMs: 10_000 })
    add('control plane', health.ok, `${config.serverUrl}/health answered ${health.status}`)
    // An unknown agent id with a valid token is 404; a bad token is 401 before any lookup.
    const probe = await send(`${config.serverUrl}/api/agents/spotguard-check/config`, {
      headers: { authorization: `Bearer ${config.token}` },
      timeoutMs: 10_000,
    })
    const tokenOk = probe.status !== 401 && probe.status !== 403
    add('client token', tokenOk, tokenOk ? 'accepted' : `refused (${probe.status})`)
  } catch (err) {
    add(
      'control plane',
      false,
      `${config.serverUrl} unreachable: ${err instanceof Error ? err.message : String(err)}`,
    )
  }
  return show()
}

const SOURCES = {
  tag: 'the instance tag LogicalAgentId',
  state: 'what this instance registered before',
  env: 'LOGICAL_AGENT_ID',
  instance: 'the instance id: no tag, no LOGICAL_AGENT_ID',
} as const
