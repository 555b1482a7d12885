import { execFile } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs'
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

describe('install.sh', () => {
  it('replaces a legacy agent, keeps its settings under the right names, installs the unit and passes --check', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sg-install-'))
    const calls = join(root, 'systemctl.calls')
    stubs(join(root, 'bin'), calls)
    mkdirSync(join(root, 'etc/spot-optimizer'), { recursive: true })
    writeFileSync(
      join(root, 'etc/spot-optimizer/agent.env'),
      [
        'CENTRAL_SERVER_URL=http://old-server:5000',
        'CLIENT_TOKEN=old-token',
        'AWS_REGION=ap-south-1',
        'LOGICAL_AGENT_ID=prod-web-1',
        `AWS_EC2_METADATA_SERVICE_ENDPOINT=${world.imds.url}`,
        `AWS_ENDPOINT_URL_EC2=${world.ec2.url}`,
        `AWS_ENDPOINT_URL_PRICING=${world.pricing.url}`,
      ].join('\n') + '\n',
    )
    const { stdout } = await promisify(execFile)(
      'sh',
      [join(REPO, 'agent/install.sh'), '--server', world.serverUrl, '--token', 'good-token'],
      {
        env: { PATH: `${join(root, 'bin')}:${process.env.PATH}`, SPOTGUARD_INSTALL_ROOT: root },
      },
    )
    expect(stdout).toContain('All checks passed.')
    expect(stdout).toContain('SpotGuard agent 5.0.0 installed and running')

    const envFile = join(root, 'etc/spot-optimizer/agent.env')
    expect(statSync(envFile).mode & 0o777).toBe(0o600)
    const env = readFileSync(envFile, 'utf8')
    expect(env).toContain(`SPOT_OPTIMIZER_SERVER_URL=${world.serverUrl}\n`)
    expect(env).toContain('SPOT_OPTIMIZER_CLIENT_TOKEN=good-token\n')
    expect(env).toContain('LOGICAL_AGENT_ID=prod-web-1\n')
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
