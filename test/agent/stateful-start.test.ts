import { describe, expect, it } from 'vitest'
import { handleNotice } from '../../agent/src/actions/notices'
import { statefulStart } from '../../agent/src/actions/stateful/establish'
import { establishInventory } from '../../agent/src/actions/stateful/inventory'
import { rollingSnapshots } from '../../agent/src/actions/stateful/snapshots'
import { createIntake } from '../../agent/src/commands'
import type { Command } from '../../src/protocol'
import { eventually } from '../support/eventually'
import { actionContext } from './support/context'
import { recordingHttp } from './support/http'
import { clock, ec2, interruptionNotice, useSeededEc2, w } from './support/seeded-ec2'
import { elbv2, seedStandby, statefulConfig, useFakeElbv2 } from './support/stateful'

const MINUTE = 60_000
const stateful = statefulConfig({ rpo_minutes: 15 })
const switchCommand: Extract<Command, { command_type: 'switch' }> = {
  id: 'cmd-switch-while-restoring',
  command_type: 'switch',
  instance_id: null,
  target_mode: 'ondemand',
  target_pool_id: 't3.medium.us-east-1c',
  priority: 75,
  terminate_wait_seconds: 0,
  created_at: '2026-01-01T00:00:00Z',
  expires_at: null,
}

useSeededEc2({ lifecycle: 'spot', az: 'us-east-1a' })
useFakeElbv2()

/**
 * The workload in us-east-1a (a data volume, its interface, a rolling snapshot, writes after it), its
 * standby replica in us-east-1c (with the copy of /dev/sdf its image gave it), then an interruption
 * the control plane answers by promoting that replica: the soak's seed-1 divergence.
 */
async function promotedAcrossAzs() {
  const { standby, copy } = seedStandby('us-east-1c', w.instanceId)
  const data = ec2.seed.addVolume({ instanceId: w.instanceId, device: '/dev/sdf', size: 20 })
  const http = recordingHttp([
    (c) =>
      c.path.endsWith('/termination-imminent')
        ? { status: 200, body: { success: true, action: 'replica_promoted', new_instance_id: standby } }
        : undefined,
  ])
  const { ctx } = actionContext(ec2, w, clock, { http, elbv2, agentConfig: stateful })
  const oldEni = (await establishInventory(ctx)).iface!.eniId
  for (const n of [1, 2, 3]) ec2.workloadWrite(w.instanceId, '/dev/sdf', `order ${n}`)
  expect((await rollingSnapshots(ctx).runIfDue())!.taken).toHaveLength(1)
  ec2.settle()
  clock.advance(5 * MINUTE)
  ec2.workloadWrite(w.instanceId, '/dev/sdf', 'after the snapshot')
  const notice = interruptionNotice('n-race')
  ec2.scheduleTermination(w.instanceId, Date.parse(notice.time))
  expect(await handleNotice(ctx, notice)).toMatchObject({ ok: true })
  return { standby, copy, data, oldEni }
}

describe('a switch delivered while the stateful restore runs', () => {
  it('waits for the restore, then moves the restored volume and the new interface to its new instance', async () => {
    const { standby, copy, data, oldEni } = await promotedAcrossAzs()
    const next = actionContext(ec2, { ...w, instanceId: standby }, clock, {
      http: recordingHttp(),
      elbv2,
      agentConfig: stateful,
    })
    const start = statefulStart(next.ctx)
    const intake = createIntake(next.ctx, start)
    // The switch arrives once the restore is underway: when it asks EC2 for the volume from the snapshot.
    let offered = false
    ec2.failWhen('CreateVolume', () => {
      if (!offered) intake.offer(switchCommand, 'socket')
      offered = true
      return undefined
    })

    start.begin()
    await start.settled()
    await eventually(() => next.state.isExecuted(switchCommand.id), { what: 'the switch executed' })
    await intake.idle()
    expect(await next.ctx.link.drain(Infinity)).toBe(true)

    expect(offered).toBe(true)
    const executed = next.http.calls.find((c) => c.path.endsWith(`/commands/${switchCommand.id}/executed`))
    expect(executed?.body).toMatchObject({ success: true })
    const fresh = [...ec2.state.instances.values()].find(
      (i) => i.instanceId !== w.instanceId && i.instanceId !== standby,
    )!
    expect(fresh).toMatchObject({ az: 'us-east-1c', lifecycle: 'on-demand' })
    // A promoted replica's mark is its own: the switch's new instance does not pass for that replica.
    expect(fresh.tags.ReplicaId).toBeUndefined()
    // The data restored from the snapshot (in us-east-1c) is on the new instance; nothing else is.
    const onFresh = [...ec2.state.volumes.values()].filter(
      (v) => v.attachment?.instanceId === fresh.instanceId,
    )
    expect(onFresh.map((v) => [v.attachment!.device, v.attachment!.state, v.az])).toEqual([
      ['/dev/sdf', 'attached', 'us-east-1c'],
    ])
    const restored = onFresh[0]!.volumeId
    expect([data, copy]).not.toContain(restored)
    expect(ec2.volumeContent(restored).at(-1)!.data).toBe('order 3')
    // The address is the restore's new interface in us-east-1c.
    const onFreshEnis = [...ec2.state.networkInterfaces.values()].filter(
      (e) => e.attachment?.instanceId === fresh.instanceId && e.attachment.deviceIndex === 1,
    )
    expect(onFreshEnis).toHaveLength(1)
    expect(onFreshEnis[0]!.networkInterfaceId).not.toBe(oldEni)
    expect(onFreshEnis[0]!.subnetId).toBe(w.subnets['us-east-1c'])
    // Every inventory the agent reported names that new interface, never the old one.
    const inventories = next.http.calls.filter((c) => c.path.endsWith('/volumes'))
    expect(inventories.length).toBeGreaterThan(0)
    for (const r of inventories)
      expect(r.body).toMatchObject({ interface: { eni_id: onFreshEnis[0]!.networkInterfaceId } })
    // What the restore left behind (the live volume and old interface in us-east-1a, the image's copy)
    // goes once its report landed: EC2 holds the restored volume and the new interface only.
    await eventually(
      () =>
        !ec2.state.volumes.has(data) &&
        !ec2.state.volumes.has(copy) &&
        !ec2.state.networkInterfaces.has(oldEni),
      { what: 'what the restore left behind deleted' },
    )
    expect([...ec2.state.volumes.keys()]).toEqual([restored])
    expect([...ec2.state.networkInterfaces.keys()]).toEqual([onFreshEnis[0]!.networkInterfaceId])
    expect(next.retired).toEqual([`workload switched to ${fresh.instanceId}`])
  })

  it('holds a rolling snapshot round due meanwhile until the restore is done: it copies the restored data', async () => {
    const { standby, copy } = await promotedAcrossAzs()
    const next = actionContext(ec2, { ...w, instanceId: standby }, clock, {
      http: recordingHttp(),
      elbv2,
      agentConfig: stateful,
    })
    const start = statefulStart(next.ctx)
    const snapshots = rollingSnapshots(next.ctx, start)
    // A round falls due (a period past the newest snapshot) while the restore creates the volume.
    let round: ReturnType<typeof snapshots.runIfDue> | null = null
    ec2.failWhen('CreateVolume', () => {
      if (round) return undefined
      clock.advance(16 * MINUTE)
      round = snapshots.runIfDue()
      return undefined
    })

    start.begin()
    await start.settled()
    const taken = (await round!)!.taken

    const restored = [...ec2.state.volumes.values()].find(
      (v) => v.attachment?.instanceId === standby && v.attachment.device === '/dev/sdf',
    )!
    expect(restored.volumeId).not.toBe(copy)
    expect(taken).toEqual([
      { snapshotId: expect.any(String), volumeId: restored.volumeId, device: '/dev/sdf' },
    ])
  })
})
