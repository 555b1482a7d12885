/**
 * Installed 4.0.0 agents booted by the simulator itself (test/emulators/installed-unit.ts): a workload
 * launched from a golden image carrying the 4.0.0 setup's files runs the emulation of the installed
 * agent on every instance booted from it, with that disk's env file, and whatever 4.0.0 launches from
 * its launch AMI boots the same agent. What the soak's `--legacy K` runs.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INSTALLED_UNIT, installedAgentFiles, installedAgentLauncher } from '../emulators/installed-unit'
import { eventually } from '../support/eventually'
import { startE2eWorld, type E2eWorld } from '../support/fleet-harness'
import { registered } from '../support/fleet-waits'
import { expectInterruptionEnd } from '../support/interruption-end'

let world: E2eWorld

beforeAll(async () => {
  world = await startE2eWorld({
    agents: 1,
    launchers: [installedAgentLauncher()],
    install: (logicalAgentId, spotguard) => installedAgentFiles(spotguard, logicalAgentId),
  })
  // The engine off: a move of its own to a cheaper pool would race the interruption this file drives.
  const row = await registered(world, 'agent-1')
  await world.api.configure(row.id, { autoSwitchEnabled: false })
})

afterAll(() => world?.stop())

/** What the installed agent on an instance logged (its calls, with their answers). */
function logOf(instanceId: string): string {
  return readFileSync(
    join(world.fleet.supervisor.instanceDir(instanceId), 'spot-optimizer-agent.log'),
    'utf8',
  )
}

describe('an installed 4.0.0 agent in the simulated fleet', () => {
  it('boots from its unit with the env file its setup wrote, and registers as 4.0.0 under its LOGICAL_AGENT_ID', async () => {
    const { fleet } = world
    const row = await registered(world, 'agent-1')
    const instanceId = fleet.primaryOf('agent-1')!
    expect(row).toMatchObject({ version: '4.0.0', instanceId })
    expect(fleet.supervisor.running()).toEqual([
      expect.objectContaining({ instanceId, unit: INSTALLED_UNIT, pid: null }),
    ])
    const disk = fleet.region.hosts().find((h) => h.instanceId === instanceId)!.disk!
    const env = readFileSync(join(disk, 'etc/spot-optimizer/agent.env'), 'utf8')
    expect(env).toMatch(/^CENTRAL_SERVER_URL=http:\/\/127\.0\.0\.1:\d+$/m)
    expect(env).toMatch(/^CLIENT_TOKEN=\S+$/m)
    expect(env).toMatch(/^LOGICAL_AGENT_ID=agent-1$/m)
    expect(env).not.toMatch(/SPOT_OPTIMIZER_/)
    expect(logOf(instanceId)).toMatch(/register 200/)
  })

  it('killed, it is started again by its unit and registers again', async () => {
    const { fleet } = world
    const instanceId = fleet.primaryOf('agent-1')!
    await fleet.supervisor.kill(instanceId)
    await eventually(
      () => fleet.supervisor.running().find((r) => r.instanceId === instanceId && r.restarts === 1),
      { what: 'the agent started again' },
    )
    await eventually(() => (logOf(instanceId).match(/register 200/g) ?? []).length === 2, {
      what: 'its second registration',
    })
  })

  it('on an interruption, its replica from the launch AMI is promoted and runs the same agent, now the workload', async () => {
    const { fleet } = world
    const row = await registered(world, 'agent-1')
    const oldInstanceId = fleet.primaryOf('agent-1')!
    const old = fleet.region.ec2.instance(oldInstanceId)!
    const allocationId = [...fleet.region.ec2.state.addresses.values()].find(
      (a) => a.instanceId === oldInstanceId,
    )!.allocationId
    // Its replica poll runs every 30 s: the notice gives it the time AWS gives.
    fleet.region.interrupt(oldInstanceId, 60)
    const { newInstanceId } = await expectInterruptionEnd(world, {
      logicalAgentId: 'agent-1',
      agentId: row.id,
      oldInstanceId,
      allocationId,
      addressFollows: false,
      viaReplica: true,
    })
    expect(fleet.region.ec2.instance(newInstanceId)).toMatchObject({
      imageId: old.imageId,
      lifecycle: 'spot',
    })
    // The replica booted the installed agent from the same image; it registers and beats as the workload.
    await eventually(() => /heartbeat 200/.test(logOf(newInstanceId)), {
      what: 'the agent on the replacement beating',
    })
    expect(logOf(newInstanceId)).toMatch(/started on .* as agent-1/)
    expect(fleet.supervisor.running().map((r) => r.instanceId)).toEqual([newInstanceId])
  })
})
