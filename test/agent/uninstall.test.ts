import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCommand } from '../../agent/src/actions/dispatch'
import { INSTALLED_PATHS } from '../../agent/src/actions/uninstall'
import type { Host } from '../../agent/src/host'
import type { Command } from '../../src/protocol'
import { seedWorkload, startFakeEc2, type FakeEc2, type SeededWorkload } from '../fakes'
import { instantClock } from './support/clock'
import { actionContext } from './support/context'

let ec2: FakeEc2
let w: SeededWorkload
const clock = instantClock()

beforeEach(async () => {
  ec2 = await startFakeEc2({ clock })
  w = seedWorkload(ec2)
})
afterEach(() => ec2.close())

const uninstall: Command = { id: 'c-u', command_type: 'uninstall', instance_id: null, priority: 50, created_at: '', expires_at: null }

function recordingHost(failOn?: string, installed = true): Host & { calls: string[] } {
  const calls: string[] = []
  return {
    installed,
    calls,
    async run(program, args) {
      const call = `${program} ${args.join(' ')}`
      calls.push(call)
      if (call === failOn) throw new Error('Access denied')
    },
    async remove(path) {
      calls.push(`rm ${path}`)
    },
    execute: async (program) => Promise.reject(new Error(`uninstall runs no ${program}`)),
    probe: async () => 'absent',
  }
}

describe('uninstall', () => {
  it('disables the unit, removes its unit, env and program files, and stops for good', async () => {
    const host = recordingHost()
    const { ctx, retired } = actionContext(ec2, w, clock, { host })
    expect(await runCommand(ctx, uninstall)).toMatchObject({ ok: true })
    expect(host.calls).toEqual([
      'systemctl disable spotguard-agent.service',
      'rm /etc/systemd/system/spotguard-agent.service',
      'rm /etc/spot-optimizer/agent.env',
      'rm /opt/spotguard',
      'systemctl daemon-reload',
    ])
    expect(host.calls.some((c) => c.includes('--now') || c.includes('stop'))).toBe(false)
    expect(retired).toEqual(['uninstall requested'])
  })

  it('only stops when it does not run from the installed program (local fleet, manual run)', async () => {
    const host = recordingHost(undefined, false)
    const { ctx, retired } = actionContext(ec2, w, clock, { host })
    expect(await runCommand(ctx, uninstall)).toMatchObject({ ok: true })
    expect(host.calls).toEqual([])
    expect(retired).toEqual(['uninstall requested'])
  })

  it('in dry-run only logs each step, and still stops', async () => {
    const host = recordingHost()
    const { ctx, log, retired } = actionContext(ec2, w, clock, { host })
    ctx.config = { ...ctx.config, dryRun: true }
    expect(await runCommand(ctx, uninstall)).toMatchObject({ ok: true })
    expect(host.calls).toEqual([])
    const logged = log.lines.filter((l) => l.msg === 'dry run: uninstall would').map((l) => l.step)
    expect(logged).toEqual(['systemctl disable spotguard-agent.service', ...INSTALLED_PATHS.map((p) => `remove ${p}`), 'systemctl daemon-reload'])
    expect(retired).toHaveLength(1)
  })

  it('runs every step when one fails, then says which failed', async () => {
    const host = recordingHost('systemctl disable spotguard-agent.service')
    const { ctx, retired } = actionContext(ec2, w, clock, { host })
    const result = await runCommand(ctx, uninstall)
    expect(result).toMatchObject({ ok: false, code: 'UninstallIncomplete' })
    if (!result.ok) expect(result.message).toContain('systemctl disable spotguard-agent.service: Access denied')
    expect(host.calls).toHaveLength(5)
    expect(retired).toHaveLength(1)
  })
})
