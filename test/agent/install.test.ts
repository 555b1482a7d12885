import { execFile } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { useCheckWorld } from './support/check-world'
import { REPO } from './support/process'

const world = useCheckWorld()

/** systemctl and curl stand-ins: systemctl records its calls; curl copies from public/agent/. */
function stubs(dir: string, calls: string) {
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    join(dir, 'systemctl'),
    `#!/bin/sh\necho "$*" >> ${calls}\nif [ "$1" = cat ] && [ "$2" = spot-optimizer-agent.service ]; then echo 'ExecStart=/usr/bin/python3 /opt/spot-optimizer/agent.py'; fi\nexit 0\n`,
  )
  writeFileSync(
    join(dir, 'curl'),
    `#!/bin/sh\nout=""; for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; url="$a"; done\ncp "${join(REPO, 'public', 'agent')}/$(basename "$url")" "$out"\n`,
  )
  chmodSync(join(dir, 'systemctl'), 0o755)
  chmodSync(join(dir, 'curl'), 0o755)
}

/** The fake endpoints, as the env file of these tests carries them. */
const endpoints = () => ({
  AWS_EC2_METADATA_SERVICE_ENDPOINT: world.imds.url,
  AWS_ENDPOINT_URL_EC2: world.ec2.url,
  AWS_ENDPOINT_URL_PRICING: world.pricing.url,
  AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: world.elbv2.url,
})

/**
 * install.sh into a fresh root with the stubs, over an existing env file of `lines` plus the endpoints
 * (null: a first install, the endpoints given in the environment instead).
 */
function install(lines: string[] | null, args: string[] = []) {
  const root = mkdtempSync(join(tmpdir(), 'sg-install-'))
  const calls = join(root, 'systemctl.calls')
  stubs(join(root, 'bin'), calls)
  const envFile = join(root, 'etc/spot-optimizer/agent.env')
  if (lines) {
    mkdirSync(join(root, 'etc/spot-optimizer'), { recursive: true })
    const all = [...lines, ...Object.entries(endpoints()).map(([k, v]) => `${k}=${v}`)]
    writeFileSync(envFile, all.join('\n') + '\n')
  }
  const run = promisify(execFile)(
    'sh',
    [join(REPO, 'agent/install.sh'), '--server', world.serverUrl, '--token', 'good-token', ...args],
    {
      env: {
        PATH: `${join(root, 'bin')}:${process.env.PATH}`,
        SPOTGUARD_INSTALL_ROOT: root,
        ...(lines ? {} : endpoints()),
      },
    },
  )
  return { root, calls, run, envFile }
}

const instance = () => world.ec2.instance(world.instanceId)!
const logicalIds = (envFile: string) => readFileSync(envFile, 'utf8').match(/^LOGICAL_AGENT_ID=.*$/gm)

/** The instance as its owner launched it, before any SpotGuard install tagged it. */
function untag() {
  delete instance().tags.LogicalAgentId
  delete instance().tags.ManagedBy
}

describe('install.sh', () => {
  it('replaces a legacy agent, keeps its settings under the right names, installs the unit and passes --check', async () => {
    untag()
    const { root, calls, run, envFile } = install([
      'CENTRAL_SERVER_URL=http://old-server:5000',
      'CLIENT_TOKEN=old-token',
      'AWS_REGION=ap-south-1',
      'LOGICAL_AGENT_ID=prod-web-1',
    ])
    const { stdout } = await run
    expect(stdout).toContain('All checks passed.')
    expect(stdout).toContain('SpotGuard agent 5.0.0 installed and running')

    expect(statSync(envFile).mode & 0o777).toBe(0o600)
    const env = readFileSync(envFile, 'utf8')
    expect(env).toContain(`SPOT_OPTIMIZER_SERVER_URL=${world.serverUrl}\n`)
    expect(env).toContain('SPOT_OPTIMIZER_CLIENT_TOKEN=good-token\n')
    expect(logicalIds(envFile)).toEqual(['LOGICAL_AGENT_ID=prod-web-1'])
    expect(env).not.toMatch(/CENTRAL_SERVER_URL|CLIENT_TOKEN=old|AWS_REGION/)
    expect(existsSync(join(root, 'opt/spotguard/spotguard-agent.js'))).toBe(true)
    expect(readFileSync(join(root, 'etc/systemd/system/spotguard-agent.service'), 'utf8')).toContain(
      'ExecStart=',
    )

    const systemctl = readFileSync(calls, 'utf8').split('\n')
    const disabled = systemctl.indexOf('disable --now spot-optimizer-agent.service')
    expect(disabled).toBeGreaterThanOrEqual(0)
    expect(systemctl.indexOf('enable spotguard-agent.service')).toBeGreaterThan(disabled)
    expect(systemctl).toContain('restart spotguard-agent.service')
    // The kept id is the instance's tag now too: what every image of it carries.
    expect(instance().tags).toMatchObject({ LogicalAgentId: 'prod-web-1', ManagedBy: 'SpotOptimizer' })
  })

  it('without --logical-id on a new instance, persists the instance id it registers with and tags the instance', async () => {
    untag()
    const { run, envFile } = install(null)
    const { stdout } = await run
    expect(stdout).toContain(`Logical id: ${world.instanceId}`)
    expect(stdout).toContain('[ OK ] ec2:CreateTags: allowed (DryRun)')
    expect(logicalIds(envFile)).toEqual([`LOGICAL_AGENT_ID=${world.instanceId}`])
    expect(instance().tags).toMatchObject({
      LogicalAgentId: world.instanceId,
      ManagedBy: 'SpotOptimizer',
      Name: 'web-1',
    })
  })

  it('takes the instance tag over a stale env file, and --logical-id over both', async () => {
    untag()
    instance().tags.LogicalAgentId = 'tagged-web'
    const kept = install(['LOGICAL_AGENT_ID=stale'])
    expect((await kept.run).stdout).toContain('Logical id: tagged-web')
    expect(logicalIds(kept.envFile)).toEqual(['LOGICAL_AGENT_ID=tagged-web'])
    const given = install(['LOGICAL_AGENT_ID=stale'], ['--logical-id', 'web-9'])
    expect((await given.run).stdout).toContain('Logical id: web-9')
    expect(logicalIds(given.envFile)).toEqual(['LOGICAL_AGENT_ID=web-9'])
    expect(instance().tags.LogicalAgentId).toBe('web-9')
  })

  it('still persists the id when the role may not tag the instance, and --check names the missing permission', async () => {
    untag()
    world.ec2.deny('CreateTags')
    try {
      const { run, envFile } = install(null, ['--logical-id', 'web-10'])
      const failed = await run.then(
        () => null,
        (err: { stdout: string; stderr: string }) => err,
      )
      expect(failed?.stderr).toContain(`could not tag ${world.instanceId} LogicalAgentId=web-10`)
      expect(failed?.stdout).toContain('Missing permissions: ec2:CreateTags')
      expect(logicalIds(envFile)).toEqual(['LOGICAL_AGENT_ID=web-10'])
      expect(instance().tags.LogicalAgentId).toBeUndefined()
    } finally {
      world.ec2.allow('CreateTags')
    }
  })

  it('refuses without a server URL or token when it cannot ask', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sg-install-'))
    stubs(join(root, 'bin'), join(root, 'calls'))
    const run = promisify(execFile)('setsid', ['sh', join(REPO, 'agent/install.sh')], {
      env: { PATH: `${join(root, 'bin')}:${process.env.PATH}`, SPOTGUARD_INSTALL_ROOT: root },
    })
    await expect(run).rejects.toMatchObject({
      stderr: expect.stringContaining('the control plane URL is required'),
    })
  })
})
