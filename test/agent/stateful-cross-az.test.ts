import { describe, expect, it } from 'vitest'
import { runSwitch } from '../../agent/src/actions/switch'
import { recordingHttp } from './support/http'
import { clock, ec2, useSeededEc2, w } from './support/seeded-ec2'
import { statefulWorkload, switchTo, useFakeElbv2 } from './support/stateful'

useSeededEc2({ lifecycle: 'on-demand', az: 'us-east-1a' })
useFakeElbv2()

const newInstance = () => [...ec2.state.instances.values()].find((i) => i.instanceId !== w.instanceId)!

/** At every EC2 request: no volume on two instances, and what the old parts looked like when deleted. */
function watch(http: ReturnType<typeof recordingHttp>, olds: string[]) {
  const seen = { twice: [] as string[], deletedKept: [] as string[], deletedBeforeReport: [] as string[] }
  ec2.failWhen('*', () => {
    const holders = new Set<string>()
    for (const v of ec2.state.volumes.values())
      if (v.attachment) {
        if (holders.has(v.volumeId)) seen.twice.push(v.volumeId)
        holders.add(v.volumeId)
      }
    return undefined
  })
  const onDelete = (id: string | null) => {
    if (!id || !olds.includes(id)) return undefined
    const tags = (ec2.state.volumes.get(id) ?? ec2.state.networkInterfaces.get(id))?.tags
    if (tags?.SpotGuardKeep === 'policy') seen.deletedKept.push(id)
    if (!http.calls.some((c) => c.path.endsWith('/switch-report'))) seen.deletedBeforeReport.push(id)
    return undefined
  }
  ec2.failWhen('DeleteVolume', (params) => onDelete(params.get('VolumeId')))
  ec2.failWhen('DeleteNetworkInterface', (params) => onDelete(params.get('NetworkInterfaceId')))
  return seen
}

describe('a stateful switch to another AZ', () => {
  it('recreates the data volumes from a snapshot taken after the drain and a new interface in the target subnet, then deletes the old ones once confirmed', async () => {
    const { ctx, http, data, logs, eniId, privateIp } = await statefulWorkload()
    ec2.state.networkInterfaces.get(eniId)!.sourceDestCheck = false
    const last = ec2.volumeContent(data)
    const seen = watch(http, [data, logs, eniId])
    const command = switchTo('t3.medium.us-east-1b')
    ctx.state.startCommand(command, clock.now())

    expect(await runSwitch(ctx, command)).toMatchObject({ ok: true })

    const fresh = newInstance()
    expect(fresh.az).toBe('us-east-1b')
    // The new instance holds copies in us-east-1b at the same devices, with the old one's last write.
    const on = [...ec2.state.volumes.values()].filter((v) => v.attachment?.instanceId === fresh.instanceId)
    expect(on.map((v) => [v.attachment!.device, v.az, v.size, v.attachment!.state]).sort()).toEqual([
      ['/dev/sdf', 'us-east-1b', 50, 'attached'],
      ['/dev/sdg', 'us-east-1b', 10, 'attached'],
    ])
    const copyOf = (device: string) => on.find((v) => v.attachment!.device === device)!
    expect(ec2.volumeContent(copyOf('/dev/sdf').volumeId)).toEqual(last)
    expect(ec2.volumeContent(copyOf('/dev/sdf').volumeId).at(-1)!.data).toBe('order 2')
    expect(ec2.volumeContent(copyOf('/dev/sdg').volumeId).at(-1)!.data).toBe('log 1')
    expect(copyOf('/dev/sdf').tags).toMatchObject({
      SpotGuardRole: 'data-volume',
      SpotGuardAgentId: 'agent-1',
    })
    expect(copyOf('/dev/sdf').tags.SpotGuardKeep).toBeUndefined()
    // The workload writes on at the new instance, the sequence unbroken.
    expect(ec2.workloadWrite(fresh.instanceId, '/dev/sdf', 'order 3').seq).toBe(3)

    // A new managed interface in us-east-1b's subnet: same groups and source/dest check, a new address.
    const enis = [...ec2.state.networkInterfaces.values()]
    expect(enis).toHaveLength(1)
    const eni = enis[0]!
    expect(eni.networkInterfaceId).not.toBe(eniId)
    expect(eni.subnetId).toBe(w.subnets['us-east-1b'])
    expect(eni.attachment).toMatchObject({ instanceId: fresh.instanceId, deviceIndex: 1 })
    expect(eni.groupIds).toEqual([w.securityGroupId])
    expect(eni.sourceDestCheck).toBe(false)
    expect(eni.tags).toMatchObject({ SpotGuardRole: 'workload-interface', SpotGuardAgentId: 'agent-1' })
    expect(eni.privateIp).not.toBe(privateIp)

    // The old volumes and interface were kept (tagged) until the report landed, then deleted.
    expect(ec2.state.volumes.has(data)).toBe(false)
    expect(ec2.state.volumes.has(logs)).toBe(false)
    expect(seen.deletedKept.sort()).toEqual([data, logs, eniId].sort())
    expect(seen.deletedBeforeReport).toEqual([])
    expect(seen.twice).toEqual([])
    // The snapshots stay as the devices' newest rolling snapshots.
    const snapshots = [...ec2.state.snapshots.values()].filter(
      (s) => s.tags.SpotGuardCommandId === command.id && s.tags.SpotGuardRole !== undefined,
    )
    expect(snapshots.map((s) => [s.tags.SpotGuardRole, s.tags.SpotGuardDevice]).sort()).toEqual([
      ['rolling-snapshot', '/dev/sdf'],
      ['rolling-snapshot', '/dev/sdg'],
    ])

    const report = http.calls.find((c) => c.path.endsWith('/switch-report'))!.body as Record<string, any>
    expect(report.stateful.steps.map((s: { name: string; ok: boolean }) => [s.name, s.ok])).toEqual([
      ['snapshot_volumes', true],
      ['create_volumes', true],
      ['attach_volumes', true],
      ['new_interface', true],
    ])
    expect(report.stateful).toMatchObject({
      data_loss_bound_seconds: 0,
      address: {
        eni_id: eni.networkInterfaceId,
        old_private_ip: privateIp,
        new_private_ip: eni.privateIp,
        changed: true,
      },
      volumes: [
        {
          device: '/dev/sdf',
          old_volume_id: data,
          new_volume_id: copyOf('/dev/sdf').volumeId,
          how: 'from_snapshot',
        },
        {
          device: '/dev/sdg',
          old_volume_id: logs,
          new_volume_id: copyOf('/dev/sdg').volumeId,
          how: 'from_snapshot',
        },
      ],
    })
    // The snapshot (60 s on the fake), the new volumes and their attachment: the workload was out that long.
    expect(report.stateful.downtime_ms).toBeGreaterThanOrEqual(60_000)
    // The inventory after the switch names the copies and the new address.
    const inventory = http.calls.filter((c) => c.path.endsWith('/volumes')).at(-1)!.body as Record<
      string,
      any
    >
    expect(inventory.volumes.map((v: { volume_id: string }) => v.volume_id)).toEqual([
      copyOf('/dev/sdf').volumeId,
      copyOf('/dev/sdg').volumeId,
    ])
    expect(inventory.interface.private_ip).toBe(eni.privateIp)
  })

  it('deletes the copies and leaves the old instance its volumes and address when attaching fails', async () => {
    const { ctx, data, logs, eniId } = await statefulWorkload()
    const before = ec2.volumeContent(data)
    ec2.failNext('AttachVolume', 'IncorrectState', { message: 'refused once' })
    const command = switchTo('t3.medium.us-east-1b')
    ctx.state.startCommand(command, clock.now())

    expect(await runSwitch(ctx, command)).toMatchObject({ ok: false, code: 'IncorrectState' })

    ec2.tick()
    expect([...ec2.state.volumes.keys()].sort()).toEqual([data, logs].sort())
    for (const [id, device] of [
      [data, '/dev/sdf'],
      [logs, '/dev/sdg'],
    ] as const) {
      const volume = ec2.state.volumes.get(id)!
      expect(volume.attachment).toMatchObject({ instanceId: w.instanceId, device, state: 'attached' })
      expect(volume.tags.SpotGuardKeep).toBeUndefined()
    }
    expect(ec2.volumeContent(data)).toEqual(before)
    expect([...ec2.state.networkInterfaces.keys()]).toEqual([eniId])
    expect(ec2.state.networkInterfaces.get(eniId)!.attachment!.instanceId).toBe(w.instanceId)
    expect(['shutting-down', 'terminated']).toContain(newInstance().state)
    expect(ec2.workloadWrite(w.instanceId, '/dev/sdf', 'order 3').seq).toBe(3)
  })
})
