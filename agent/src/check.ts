/** `--check`: a readable report of config, IMDS, credentials and the control plane; pass/fail as the exit code. */
import { ConfigError, describeConfig, loadConfig } from './config'
import { systemClock } from './clock'
import { environmentCredentials, instanceProfileCredentials } from './credentials'
import { createEc2 } from './ec2'
import { createImds } from './imds'
import { createLog } from './log'
import { send } from './net/request'
import { AGENT_VERSION } from './version'

type Line = { name: string; ok: boolean; detail: string }

/** Runs every check; prints the report through `print`; answers true when all passed. */
export async function runCheck(env: Record<string, string | undefined>, print: (line: string) => void): Promise<boolean> {
  const lines: Line[] = []
  const add = (name: string, ok: boolean, detail: string) => lines.push({ name, ok, detail })
  const show = () => {
    print(`SpotGuard agent ${AGENT_VERSION} check`)
    for (const l of lines) print(`  [${l.ok ? ' OK ' : 'FAIL'}] ${l.name}: ${l.detail}`)
    const passed = lines.every((l) => l.ok)
    print(passed ? 'All checks passed.' : 'Some checks failed.')
    return passed
  }

  let config
  try {
    config = loadConfig(env)
    const shown = describeConfig(config)
    add('configuration', true, `server ${config.serverUrl}, token ${String(shown.token)}, state dir ${config.stateDir}${config.dryRun ? ', DRY RUN' : ''}`)
  } catch (err) {
    add('configuration', false, err instanceof ConfigError ? err.problems.join('; ') : String(err))
    return show()
  }

  const log = createLog('error', () => {})
  const imds = createImds(config.imdsEndpoint, systemClock)
  let region = config.configuredRegion
  try {
    const id = await imds.identity()
    region = id.region
    add('instance metadata (IMDSv2)', true, `${id.instanceId} ${id.instanceType} ${id.mode} in ${id.az}`)
    if (config.configuredRegion && config.configuredRegion !== id.region) {
      add('region', true, `AWS_REGION=${config.configuredRegion} disagrees with IMDS (${id.region}); IMDS wins`)
    }
  } catch (err) {
    add('instance metadata (IMDSv2)', false, err instanceof Error ? err.message : String(err))
  }

  const credentials = environmentCredentials(env) ?? instanceProfileCredentials(imds, systemClock)
  try {
    const creds = await credentials.get()
    add('AWS credentials', true, creds.expiresAt ? `instance profile, expire ${new Date(creds.expiresAt).toISOString()}` : 'from the environment')
    if (region) {
      const ec2 = createEc2({ region, endpoint: config.ec2Endpoint, credentials, clock: systemClock, log, dryRun: config.dryRun })
      await ec2.read('DescribeAvailabilityZones', {})
      add('EC2 API', true, `reachable in ${region}`)
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
    add('control plane', false, `${config.serverUrl} unreachable: ${err instanceof Error ? err.message : String(err)}`)
  }
  return show()
}
