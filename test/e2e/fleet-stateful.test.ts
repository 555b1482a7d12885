/**
 * A stateful workload through a real fleet (one agent, one simulated clock SPEED times real time): a
 * force-switch in its AZ moves the data volume and the managed interface (same private address); a
 * force-switch to another AZ recreates the volume there from a snapshot taken during the switch and gives
 * it a new interface (a new address). Each switch is followed to the history, the switch page and EC2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queryD1, sql } from '../support/d1'
import { eventually } from '../support/eventually'
import { startE2eWorld, type E2eWorld } from '../support/fleet-harness'
import { finished, registered } from '../support/fleet-waits'

/** EBS snapshots take a simulated minute on the fake: 3 s here. */
const SPEED = 20
const DEVICE = '/dev/sdf'

let world: E2eWorld

beforeAll(async () => {
  world = await startE2eWorld({ agents: 1, lifecycle: 'on-demand', speed: SPEED })
})

afterAll(async () => {
  await world?.stop()
})

const ec2 = () => world.fleet.region.ec2

/** The managed interface of the workload (the one tagged for its agent), with what holds it. */
function managedInterfaces() {
  return [...ec2().state.networkInterfaces.values()].filter(
    (n) => n.tags.SpotGuardRole === 'workload-interface',
  )
}

function volumeAt(instanceId: string, device: string) {
  return [...ec2().state.volumes.values()].find(
    (v) => v.attachment?.instanceId === instanceId && v.attachment.device === device,
  )
}

/** The agent once it runs on `instanceId` (after a switch, the new instance's agent). */
function runningOn(instanceId: string) {
  return eventually(
    async () => {
      const agent = await world.api.agent(world.client.id, 'agent-1')
      return agent?.instanceId === instanceId && agent.status === 'online' ? agent : undefined
    },
    { what: `agent-1 online on ${instanceId}`, timeoutMs: 60_000 },
  )
}

/** Force-switches to `poolId` once it has a price; answers the switch's record once completed. */
async function forceSwitchTo(instanceId: string, poolId: string) {
  await eventually(
    async () =>
      (await queryD1(world.worker.persistDir, `select 1 from spot_prices where pool_id = '${sql(poolId)}'`))
        .length > 0,
    { what: `a price of ${poolId}`, timeoutMs: 60_000 },
  )
  const answer = await world.api.forceSwitch(instanceId, { target: 'pool', pool_id: poolId })
  expect(answer.success, answer.message).toBe(true)
  await finished(world, answer.command_id!)
  const [row] = (await world.api.switchHistory(world.client.id)).filter(
    (s) => s.commandId === answer.command_id,
  )
  return { row: row!, message: answer.message ?? '' }
}

async function switchPage(switchId: string): Promise<string> {
  const page = await world.worker.admin(`/c/${world.client.id}/switches/${switchId}`)
  expect(page.status).toBe(200)
  return page.text()
}

describe('a stateful workload', () => {
  it('keeps its data volume and private address in its AZ, and its data from a snapshot across AZs', async () => {
    const agent = await registered(world, 'agent-1')
    const first = agent.instanceId!
    const az = ec2().state.instances.get(first)!.az
    const type = ec2().state.instances.get(first)!.instanceType
    const otherAz = ec2().state.zones.find((z) => z !== az)!
    const data = ec2().seed.addVolume({ instanceId: first, device: DEVICE, size: 20 })
    await world.api.configure(agent.id, { stateful: true })
    // The agent establishes the stateful inventory: the managed interface on its instance.
    const [eni] = await eventually(
      async () => {
        const found = managedInterfaces()
        return found[0]?.attachment?.instanceId === first ? found : undefined
      },
      { what: 'the managed interface on the instance', timeoutMs: 60_000 },
    )
    const address = eni!.privateIp
    ec2().workloadWrite(first, DEVICE, 'order 1')
    ec2().workloadWrite(first, DEVICE, 'order 2')

    // (a) In the same AZ: the volume and the interface move.
    const same = await forceSwitchTo(first, `${type}.${az}`)
    const second = same.row.newInstanceId!
    expect(ec2().state.instances.get(second)!.az).toBe(az)
    expect(volumeAt(second, DEVICE)?.volumeId).toBe(data)
    expect(ec2().volumeContent(data).at(-1)!.data).toBe('order 2')
    expect(
      managedInterfaces().map((n) => [n.networkInterfaceId, n.privateIp, n.attachment?.instanceId]),
    ).toEqual([[eni!.networkInterfaceId, address, second]])
    expect(same.row.downtimeMs).toBeGreaterThan(0)
    const samePage = await switchPage(same.row.id)
    expect(samePage).toContain('id="switch-downtime"')
    expect(samePage).toContain(`${(same.row.downtimeMs! / 1000).toFixed(1)} s`)
    for (const step of ['detach_volumes', 'attach_volumes', 'move_interface'])
      expect(samePage).toContain(`data-step="${step}"`)
    expect(samePage).toContain('address kept')

    // (b) To another AZ: the data comes from a snapshot taken during the switch, the address changes.
    await runningOn(second)
    ec2().workloadWrite(second, DEVICE, 'order 3')
    const before = ec2().volumeContent(data)
    const across = await forceSwitchTo(second, `${type}.${otherAz}`)
    expect(across.message).toContain('the private address changes')
    const third = across.row.newInstanceId!
    expect(ec2().state.instances.get(third)!.az).toBe(otherAz)
    const copy = volumeAt(third, DEVICE)!
    expect(copy.az).toBe(otherAz)
    expect(ec2().volumeContent(copy.volumeId)).toEqual(before)
    expect(ec2().volumeContent(copy.volumeId).at(-1)!.data).toBe('order 3')
    const [moved] = managedInterfaces().filter((n) => n.attachment?.instanceId === third)
    expect(moved!.subnetId).not.toBe(eni!.subnetId)
    expect(moved!.privateIp).not.toBe(address)
    const acrossPage = await switchPage(across.row.id)
    for (const step of ['snapshot_volumes', 'create_volumes', 'attach_volumes', 'new_interface'])
      expect(acrossPage).toContain(`data-step="${step}"`)
    expect(acrossPage).toContain('address changed')
    expect(acrossPage).toContain(moved!.privateIp)
    expect(acrossPage).toContain('from snapshot')
    // Confirmed, the old volume and interface are deleted; none is attached to two instances.
    await eventually(() => !ec2().state.volumes.has(data) && managedInterfaces().length === 1, {
      what: 'the kept volume and interface deleted',
      timeoutMs: 30_000,
    })
  })
})
