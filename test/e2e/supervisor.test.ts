/** The simulated init system (scripts/fleet/agents.ts, unit-launcher.ts): which agents boot where, and their restarts. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AgentSupervisor, type HostInstance } from '../../scripts/fleet/agents'
import { ROOT } from '../../scripts/fleet/control-plane'
import { WANTS_DIR, type AgentLauncher, type Boot, type RestartPolicy } from '../../scripts/fleet/launcher'
import { parseEnvFile, parseUnit, systemdUnitLauncher } from '../../scripts/fleet/unit-launcher'

describe('the simulated init system', () => {
  const unit = parseUnit(readFileSync(join(ROOT, 'agent', 'spotguard-agent.service'), 'utf8'))

  it('reads the installed unit as systemd does: env file, environment, node program, state dir, restart policy', () => {
    expect(unit.environmentFiles).toEqual([{ path: '/etc/spot-optimizer/agent.env', optional: false }])
    expect(unit.environment).toEqual({ SPOTGUARD_STATE_DIR: '/var/lib/spotguard' })
    expect(unit.execStart.slice(0, 2)).toEqual(['/usr/bin/env', 'node'])
    expect(unit.execStart.at(-1)).toBe('/opt/spotguard/spotguard-agent.js')
    expect(unit.stateDirectory).toBe('spotguard')
    expect(unit.restart).toEqual({ when: 'on-failure', prevent: [78] })
    expect(parseEnvFile('# x\nA=1\nexport B="two words"\nC=\'3\'\nnot a line\n')).toEqual({
      A: '1',
      B: 'two words',
      C: '3',
    })
  })

  /** A launcher whose agents are promises the test ends, recording each boot. */
  function recordingLauncher(restart: RestartPolicy) {
    const boots: Array<Boot & { exit(code: number): void; stopped: boolean }> = []
    const launcher: AgentLauncher = {
      unit: 'spotguard-agent.service',
      logName: 'agent.log',
      start(boot) {
        let exit = (_: number | null) => {}
        const exited = new Promise<number | null>((resolve) => (exit = resolve))
        let done = false
        void exited.then(() => (done = true))
        const record = Object.assign({ ...boot }, { exit: (code: number) => exit(code), stopped: false })
        boots.push(record)
        return {
          pid: null,
          exited,
          hasExited: () => done,
          stop: async () => void ((record.stopped = true), exit(null)),
          kill: async () => exit(null),
          restart,
        }
      },
    }
    return { launcher, boots }
  }

  function disk(enabled: boolean) {
    const root = mkdtempSync(join(tmpdir(), 'disk-'))
    if (enabled) {
      mkdirSync(join(root, WANTS_DIR), { recursive: true })
      writeFileSync(join(root, WANTS_DIR, 'spotguard-agent.service'), '')
    }
    return root
  }

  it('boots the agent of every running instance whose disk has it enabled, replicas included, and stops it with its instance', async () => {
    const { launcher, boots } = recordingLauncher(unit.restart)
    const supervisor = new AgentSupervisor({
      launchers: [launcher],
      region: 'us-east-1',
      ec2Url: 'http://ec2',
      pricingUrl: 'http://pricing',
      simClock: '0x60',
      logDir: mkdtempSync(join(tmpdir(), 'logs-')),
    })
    const host = (
      instanceId: string,
      state: string,
      tags: Record<string, string>,
      d: string | null,
    ): HostInstance => ({ instanceId, state, tags, imdsUrl: `http://imds/${instanceId}`, disk: d })
    const primary = host('i-1', 'running', { LogicalAgentId: 'web' }, disk(true))
    const replica = host('i-2', 'running', { LogicalAgentId: 'web', ReplicaId: 'rep-1' }, disk(true))
    const bare = host('i-3', 'running', { LogicalAgentId: 'web' }, disk(false))
    const pending = host('i-4', 'pending', {}, disk(true))
    await supervisor.reconcile([primary, replica, bare, pending], 0)
    expect(boots.map((b) => [b.instanceId, b.disk, b.imdsUrl, b.simClock])).toEqual([
      ['i-1', primary.disk, 'http://imds/i-1', '0x60'],
      ['i-2', replica.disk, 'http://imds/i-2', '0x60'],
    ])
    await supervisor.reconcile([{ ...primary, state: 'shutting-down' }, replica, bare, pending], 1)
    expect(boots[0]!.stopped).toBe(true)
    expect(supervisor.running().map((r) => r.instanceId)).toEqual(['i-2'])
  })

  it('restarts an agent as Restart=on-failure does: not after exit 0 or 78, after a failure once the pause is over', async () => {
    const { launcher, boots } = recordingLauncher(unit.restart)
    const supervisor = new AgentSupervisor({
      launchers: [launcher],
      region: 'us-east-1',
      ec2Url: 'e',
      pricingUrl: 'p',
      simClock: null,
      logDir: mkdtempSync(join(tmpdir(), 'logs-')),
      restartDelayMs: 100,
    })
    const hosts = ['i-1', 'i-2', 'i-3'].map((id) => ({
      instanceId: id,
      state: 'running',
      tags: {},
      imdsUrl: 'http://imds',
      disk: disk(true),
    }))
    await supervisor.reconcile(hosts, 0)
    boots[0]!.exit(0)
    boots[1]!.exit(78)
    boots[2]!.exit(1)
    await Promise.resolve()
    await supervisor.reconcile(hosts, 10)
    await supervisor.reconcile(hosts, 50)
    expect(boots).toHaveLength(3)
    await supervisor.reconcile(hosts, 200)
    expect(boots.map((b) => b.instanceId)).toEqual(['i-1', 'i-2', 'i-3', 'i-3'])
    expect(supervisor.running()).toEqual([expect.objectContaining({ instanceId: 'i-3', restarts: 1 })])
  })

  it('fails a unit that cannot start as systemd would: logged, and tried again after the pause', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'logs-'))
    const supervisor = new AgentSupervisor({
      launchers: [systemdUnitLauncher('spotguard-agent.service')],
      region: 'us-east-1',
      ec2Url: 'e',
      pricingUrl: 'p',
      simClock: null,
      logDir,
      restartDelayMs: 100,
    })
    // Enabled, but the unit file itself is not on the disk.
    const hosts = [
      { instanceId: 'i-1', state: 'running', tags: {}, imdsUrl: 'http://imds', disk: disk(true) },
    ]
    await supervisor.reconcile(hosts, 0)
    await Promise.resolve()
    await supervisor.reconcile(hosts, 10)
    await supervisor.reconcile(hosts, 200)
    const log = readFileSync(join(supervisor.instanceDir('i-1'), 'agent.log'), 'utf8')
    expect(log.match(/spotguard-agent.service failed to start: .*no such file/gi)).toHaveLength(2)
    expect(supervisor.running()).toEqual([])
  })

  it('starts nothing once stopped, not even from a reconcile that was under way', async () => {
    const { launcher, boots } = recordingLauncher(unit.restart)
    // The first agent takes its time to stop, as a real one finishing its work does.
    let finishStop = () => {}
    const slow: AgentLauncher = {
      ...launcher,
      start(boot) {
        const handle = launcher.start(boot)
        if (boots.length > 1) return handle
        return { ...handle, stop: () => new Promise<void>((resolve) => (finishStop = resolve)) }
      },
    }
    const supervisor = new AgentSupervisor({
      launchers: [slow],
      region: 'us-east-1',
      ec2Url: 'e',
      pricingUrl: 'p',
      simClock: null,
      logDir: mkdtempSync(join(tmpdir(), 'logs-')),
    })
    const host = (instanceId: string, state: string): HostInstance => ({
      instanceId,
      state,
      tags: {},
      imdsUrl: 'http://imds',
      disk: disk(true),
    })
    await supervisor.reconcile([host('i-1', 'running')], 0)
    // i-1 shuts down while i-2 boots: this reconcile waits for i-1's agent to stop...
    const underway = supervisor.reconcile([host('i-1', 'shutting-down'), host('i-2', 'running')], 1)
    // ...and the fleet stops meanwhile.
    await supervisor.stop()
    finishStop()
    await underway
    expect(boots.map((b) => b.instanceId)).toEqual(['i-1'])
    expect(supervisor.running()).toEqual([])
  })
})
