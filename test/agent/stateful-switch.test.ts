import { describe, expect, it } from 'vitest'
import { establishInventory } from '../../agent/src/actions/stateful/inventory'
import { runSwitch } from '../../agent/src/actions/switch'
import { actionContext } from './support/context'
import { clock, ec2, useSeededEc2, w } from './support/seeded-ec2'
import { elbv2, statefulConfig, statefulWorkload, switchTo, useFakeElbv2 } from './support/stateful'

const stateful = statefulConfig()

useSeededEc2({ lifecycle: 'on-demand', az: 'us-east-1a' })
useFakeElbv2()

const newInstance = () => [...ec2.state.instances.values()].find((i) => i.instanceId !== w.instanceId)!

/** Every request: the new instance holds no volume but the workload's (no stale copies from the image). */
function watchNewInstanceVolumes(ours: string[]): string[] {
  const strangers: string[] = []
  ec2.failWhen('*', () => {
    for (const v of ec2.state.volumes.values())
      if (v.attachment && v.attachment.instanceId !== w.instanceId && !ours.includes(v.volumeId))
        strangers.push(`${v.volumeId} at ${v.attachment.device}`)
    return undefined
  })
  return strangers
}

describe('establishing a stateful workload', () => {
  it('tags its data volumes, creates the managed interface once at device index 1 and reports both', async () => {
    const { http, data, logs, eniId, privateIp } = await statefulWorkload()
    const eni = ec2.state.networkInterfaces.get(eniId)!
    expect(eni.attachment).toMatchObject({ instanceId: w.instanceId, deviceIndex: 1 })
    expect(eni.tags).toMatchObject({ SpotGuardRole: 'workload-interface', SpotGuardAgentId: 'agent-1' })
    expect(eni.groupIds).toEqual([w.securityGroupId])
    for (const id of [data, logs]) expect(ec2.state.volumes.get(id)!.tags.SpotGuardRole).toBe('data-volume')
    const report = http.calls.find((c) => c.path.endsWith('/volumes'))!.body
    expect(report).toEqual({
      volumes: [
        { volume_id: data, device: '/dev/sdf', size_gib: 50, az: 'us-east-1a', delete_on_termination: false },
        { volume_id: logs, device: '/dev/sdg', size_gib: 10, az: 'us-east-1a', delete_on_termination: false },
      ],
      interface: { eni_id: eniId, private_ip: privateIp, subnet_id: w.subnets['us-east-1a'] },
    })

    // A restart finds the same interface: none is created twice.
    const { ctx } = actionContext(ec2, w, clock, { elbv2, agentConfig: stateful })
    expect((await establishInventory(ctx)).iface!.eniId).toBe(eniId)
    expect(ec2.state.networkInterfaces.size).toBe(1)
  })
})

describe('the inventory of a stateful workload', () => {
  it('takes the managed interface in its own AZ when the agent has another in another AZ, and creates none', async () => {
    const tags = {
      SpotGuardManaged: 'true',
      SpotGuardAgentId: 'agent-1',
      SpotGuardRole: 'workload-interface',
    }
    const elsewhere = ec2.seed.addNetworkInterface({ subnetId: w.subnets['us-east-1b']!, tags })
    const own = ec2.seed.addNetworkInterface({ subnetId: w.subnets['us-east-1a']!, tags })
    const { ctx } = actionContext(ec2, w, clock, { elbv2, agentConfig: stateful })

    expect((await establishInventory(ctx)).iface!.eniId).toBe(own.networkInterfaceId)

    expect(ec2.state.networkInterfaces.get(own.networkInterfaceId)!.attachment).toMatchObject({
      instanceId: w.instanceId,
      deviceIndex: 1,
    })
    expect(ec2.state.networkInterfaces.get(elsewhere.networkInterfaceId)!.attachment).toBeUndefined()
    expect(ec2.state.networkInterfaces.size).toBe(2)
  })
})

describe('a stateful switch in the same AZ', () => {
  it('moves the data volumes (same devices, last write kept) and the private address to the new instance', async () => {
    const { ctx, http, data, logs, eniId, privateIp } = await statefulWorkload()
    const before = ec2.volumeContent(data)
    const strangers = watchNewInstanceVolumes([data, logs])
    const command = switchTo('t3.medium.us-east-1a')
    ctx.state.startCommand(command, clock.now())

    expect(await runSwitch(ctx, command)).toMatchObject({ ok: true })

    const fresh = newInstance()
    expect(fresh.az).toBe('us-east-1a')
    expect(strangers).toEqual([])
    expect(ec2.state.volumes.size).toBe(2)
    for (const [id, device] of [
      [data, '/dev/sdf'],
      [logs, '/dev/sdg'],
    ] as const)
      expect(ec2.state.volumes.get(id)!.attachment).toMatchObject({
        instanceId: fresh.instanceId,
        device,
        state: 'attached',
      })
    expect(ec2.volumeContent(data)).toEqual(before)
    expect(ec2.volumeContent(data).at(-1)!.data).toBe('order 2')
    // The workload writes on at the new instance, the sequence unbroken.
    expect(ec2.workloadWrite(fresh.instanceId, '/dev/sdf', 'order 3').seq).toBe(3)
    const eni = ec2.state.networkInterfaces.get(eniId)!
    expect(eni.attachment).toMatchObject({ instanceId: fresh.instanceId, deviceIndex: 1 })
    expect(eni.privateIp).toBe(privateIp)
    expect(eni.groupIds).toEqual([w.securityGroupId])

    // The image left the data devices out.
    const image = ec2.requests.find((r) => r.action === 'CreateImage')!.params
    const noDevices = Object.entries(image)
      .filter(([k]) => k.endsWith('.NoDevice'))
      .map(([k]) => image[k.replace('.NoDevice', '.DeviceName')])
    expect(noDevices.sort()).toEqual(['/dev/sdf', '/dev/sdg'])

    const report = http.calls.find((c) => c.path.endsWith('/switch-report'))!.body as Record<string, any>
    expect(report.stateful.steps.map((s: { name: string; ok: boolean }) => [s.name, s.ok])).toEqual([
      ['detach_volumes', true],
      ['attach_volumes', true],
      ['move_interface', true],
    ])
    expect(report.stateful).toMatchObject({
      data_loss_bound_seconds: 0,
      address: { eni_id: eniId, old_private_ip: privateIp, new_private_ip: privateIp, changed: false },
      volumes: [
        { device: '/dev/sdf', old_volume_id: data, new_volume_id: data, how: 'moved' },
        { device: '/dev/sdg', old_volume_id: logs, new_volume_id: logs, how: 'moved' },
      ],
    })
    // EBS's detach and attach take 5 s each on the fake: the workload was without its data that long.
    expect(report.stateful.downtime_ms).toBeGreaterThanOrEqual(10_000)
    // The inventory after the switch names the same volumes and address.
    const inventory = http.calls.filter((c) => c.path.endsWith('/volumes')).at(-1)!.body as Record<
      string,
      any
    >
    expect(inventory.volumes.map((v: { volume_id: string }) => v.volume_id)).toEqual([data, logs])
    expect(inventory.interface.private_ip).toBe(privateIp)
  })

  it('puts the volumes back on the old instance when AttachVolume fails, and ends the new instance', async () => {
    const { ctx, data, logs, eniId } = await statefulWorkload()
    const before = ec2.volumeContent(data)
    ec2.failNext('AttachVolume', 'IncorrectState', { message: 'refused once' })
    const command = switchTo('t3.medium.us-east-1a')
    ctx.state.startCommand(command, clock.now())

    expect(await runSwitch(ctx, command)).toMatchObject({ ok: false, code: 'IncorrectState' })

    ec2.tick()
    for (const [id, device] of [
      [data, '/dev/sdf'],
      [logs, '/dev/sdg'],
    ] as const)
      expect(ec2.state.volumes.get(id)!.attachment).toMatchObject({
        instanceId: w.instanceId,
        device,
        state: 'attached',
      })
    expect(ec2.state.volumes.size).toBe(2)
    expect(ec2.volumeContent(data)).toEqual(before)
    expect(ec2.state.networkInterfaces.get(eniId)!.attachment!.instanceId).toBe(w.instanceId)
    expect(['shutting-down', 'terminated']).toContain(newInstance().state)
    // The old workload writes on.
    expect(ec2.workloadWrite(w.instanceId, '/dev/sdf', 'order 3').seq).toBe(3)
  })

  it('rides out a transient AttachVolume failure (retried) and completes the move', async () => {
    const { ctx, data } = await statefulWorkload()
    ec2.failNext('AttachVolume', 'InternalError')
    const command = switchTo('t3.medium.us-east-1a')
    ctx.state.startCommand(command, clock.now())
    expect(await runSwitch(ctx, command)).toMatchObject({ ok: true })
    expect(ec2.state.volumes.get(data)!.attachment).toMatchObject({ instanceId: newInstance().instanceId })
  })
})
