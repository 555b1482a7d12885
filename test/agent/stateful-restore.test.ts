import { beforeEach, describe, expect, it } from 'vitest'
import { handleNotice } from '../../agent/src/actions/notices'
import { establishInventory } from '../../agent/src/actions/stateful/inventory'
import { restoreIfReplacement } from '../../agent/src/actions/stateful/restore'
import { deleteKeptAfterRestore } from '../../agent/src/actions/stateful/restore-kept'
import { rollingSnapshots } from '../../agent/src/actions/stateful/snapshots'
import { memoryState, type State } from '../../agent/src/state'
import { actionContext } from './support/context'
import { recordingHttp } from './support/http'
import { clock, ec2, interruptionNotice, useSeededEc2, w } from './support/seeded-ec2'
import {
  elbv2,
  noReplica,
  seedReplacement,
  seedStandby,
  statefulConfig,
  useFakeElbv2,
} from './support/stateful'

const MINUTE = 60_000
const stateful = statefulConfig({ rpo_minutes: 15 })

useSeededEc2({ lifecycle: 'spot', az: 'us-east-1a' })
useFakeElbv2()
beforeEach(() => {
  ec2.setSpotPrice('t3.medium', 'us-east-1a', 0.01)
  ec2.setSpotPrice('t3.medium', 'us-east-1b', 0.016)
  ec2.setSpotPrice('t3.medium', 'us-east-1c', 0.013)
})

/** A stateful workload with one data volume (survives termination), its interface, and writes on it. */
async function statefulWorkload(http: ReturnType<typeof recordingHttp>) {
  const data = ec2.seed.addVolume({ instanceId: w.instanceId, device: '/dev/sdf', size: 20 })
  const made = actionContext(ec2, w, clock, { http, elbv2, agentConfig: stateful })
  const inventory = await establishInventory(made.ctx)
  for (const n of [1, 2, 3]) ec2.workloadWrite(w.instanceId, '/dev/sdf', `order ${n}`)
  return { ...made, data, eniId: inventory.iface!.eniId, privateIp: inventory.iface!.privateIp }
}

const noticeIn = (ms: number) => interruptionNotice('n-stateful', ms)
const replacementOf = () => [...ec2.state.instances.values()].find((i) => i.instanceId !== w.instanceId)!

/** The replacement's agent, started on the replacement instance (`state`: a restarted agent's). */
function replacementAgent(instanceId: string, http = recordingHttp(), state?: State) {
  return actionContext(ec2, { ...w, instanceId }, clock, { http, state, elbv2, agentConfig: stateful })
}

async function sentStateful(next: ReturnType<typeof replacementAgent>) {
  expect(await next.ctx.link.drain(Infinity)).toBe(true)
  const report = next.http.calls.filter((c) => c.path.endsWith('/switch-report')).at(-1)!.body as Record<
    string,
    any
  >
  return report
}

/** Every volume's attachments at every request: one volume is never on two instances. */
function watchAttachments(): Map<string, Set<string>> {
  const seen = new Map<string, Set<string>>()
  ec2.failWhen('*', () => {
    for (const v of ec2.state.volumes.values()) {
      if (!v.attachment) continue
      const on = seen.get(v.volumeId) ?? new Set()
      on.add(v.attachment.instanceId)
      seen.set(v.volumeId, on)
    }
    return undefined
  })
  return seen
}

describe('an interruption of a stateful workload without a replica', () => {
  it('replaces it in the same AZ, which reattaches the live volume and the address: nothing lost', async () => {
    const http = noReplica('rep-1', 'us-east-1a')
    const { ctx, data, eniId, privateIp } = await statefulWorkload(http)
    const lastWrite = ec2.volumeContent(data).at(-1)!
    const n = noticeIn(120_000)
    ec2.scheduleTermination(w.instanceId, Date.parse(n.time))

    expect(await handleNotice(ctx, n)).toMatchObject({ ok: true })

    // The control plane was asked for a replacement without excluding the workload's own AZ.
    const asked = http.calls.find((c) => c.path.endsWith('/create-emergency-replica'))!.body
    expect(asked).toMatchObject({ exclude_zones: [] })
    const replacement = replacementOf()
    expect(replacement).toMatchObject({ az: 'us-east-1a', lifecycle: 'on-demand' })
    // Within its notice the dying instance stopped its workload and let go of its volume and address.
    expect(ec2.state.volumes.get(data)!.attachment).toBeUndefined()
    expect(ec2.state.volumes.get(data)!.tags.SpotGuardDevice).toBe('/dev/sdf')
    expect(ec2.state.networkInterfaces.get(eniId)!.attachment).toBeUndefined()
    expect(clock.now()).toBeLessThan(Date.parse(n.time))

    const seen = watchAttachments()
    const next = replacementAgent(replacement.instanceId)
    const restored = (await restoreIfReplacement(next.ctx))!

    expect(ec2.state.volumes.get(data)!.attachment).toMatchObject({
      instanceId: replacement.instanceId,
      device: '/dev/sdf',
      state: 'attached',
    })
    expect(ec2.volumeContent(data).at(-1)).toEqual(lastWrite)
    expect(ec2.workloadWrite(replacement.instanceId, '/dev/sdf', 'order 4').seq).toBe(lastWrite.seq + 1)
    expect(ec2.state.networkInterfaces.get(eniId)).toMatchObject({
      privateIp,
      attachment: { instanceId: replacement.instanceId, deviceIndex: 1 },
    })
    expect(ec2.state.volumes.size).toBe(1)
    for (const on of seen.values()) expect(on.size).toBe(1)
    expect(restored).toMatchObject({
      data_loss_bound_seconds: 0,
      volumes: [{ device: '/dev/sdf', old_volume_id: data, new_volume_id: data, how: 'reattached' }],
      address: { eni_id: eniId, old_private_ip: privateIp, new_private_ip: privateIp, changed: false },
    })
    const report = await sentStateful(next)
    expect(report).toMatchObject({
      trigger: 'interruption',
      old_instance: { instance_id: w.instanceId, az: 'us-east-1a' },
      new_instance: { instance_id: replacement.instanceId, az: 'us-east-1a', mode: 'ondemand' },
      stateful: { data_loss_bound_seconds: 0, volumes: [{ how: 'reattached' }] },
    })
    expect(report.stateful.steps.map((s: { name: string; ok: boolean }) => [s.name, s.ok])).toEqual([
      ['attach_volumes', true],
      ['move_interface', true],
    ])
    expect(report.stateful.downtime_ms).toBeGreaterThan(0)
    // A restart of the replacement's agent finds everything on it: nothing is done twice.
    expect(await restoreIfReplacement(replacementAgent(replacement.instanceId).ctx)).toBeNull()
  })

  it('waits until EC2 frees a volume the interrupted instance still holds, then reattaches it', async () => {
    const { data } = await statefulWorkload(recordingHttp())
    // The replacement launched for a notice whose instance ends in 2 minutes, still holding the volume.
    const n = noticeIn(120_000)
    ec2.scheduleTermination(w.instanceId, Date.parse(n.time))
    const replacementId = seedReplacement('us-east-1a', n)
    ec2.settle()
    const lastWrite = ec2.volumeContent(data).at(-1)!

    const restored = (await restoreIfReplacement(replacementAgent(replacementId).ctx))!

    expect(clock.now()).toBeGreaterThanOrEqual(Date.parse(n.time))
    expect(ec2.instance(w.instanceId)!.state).toBe('terminated')
    expect(ec2.state.volumes.get(data)!.attachment).toMatchObject({
      instanceId: replacementId,
      device: '/dev/sdf',
    })
    expect(ec2.volumeContent(data).at(-1)).toEqual(lastWrite)
    expect(restored).toMatchObject({ data_loss_bound_seconds: 0, volumes: [{ how: 'reattached' }] })
  })

  it('restores from the newest rolling snapshot in another AZ when its own has no capacity: loss within the RPO', async () => {
    // The control plane does not answer: the agent launches on its own (its report stays queued).
    const http = heldReports(recordingHttp([() => ({ status: 0 })]))
    const { ctx, data, eniId, privateIp } = await statefulWorkload(http)
    const snapshots = rollingSnapshots(ctx)
    expect((await snapshots.runIfDue())!.taken).toHaveLength(1)
    ec2.settle()
    // The workload writes on for 10 simulated minutes after that snapshot.
    for (let m = 1; m <= 10; m++) {
      clock.advance(MINUTE)
      ec2.workloadWrite(w.instanceId, '/dev/sdf', `late ${m}`)
    }
    const lastWrite = ec2.volumeContent(data).at(-1)!
    // No on-demand capacity in us-east-1a: the next target is the cheapest spot pool elsewhere.
    ec2.failNext('RunInstances', 'InsufficientInstanceCapacity')
    const n = noticeIn(120_000)
    ec2.scheduleTermination(w.instanceId, Date.parse(n.time))

    expect(await handleNotice(ctx, n)).toMatchObject({ ok: true })
    const launches = ec2.requests.filter((r) => r.action === 'RunInstances')
    // On-demand in its own AZ first, then the cheapest spot pool elsewhere.
    expect(
      launches.map((r) => [r.params.SubnetId, r.params['InstanceMarketOptions.MarketType'] ?? 'on-demand']),
    ).toEqual([
      [w.subnets['us-east-1a'], 'on-demand'],
      [w.subnets['us-east-1c'], 'spot'],
    ])
    const replacement = replacementOf()
    expect(replacement.az).toBe('us-east-1c')

    const next = replacementAgent(replacement.instanceId)
    const restored = (await restoreIfReplacement(next.ctx))!

    const fresh = [...ec2.state.volumes.values()].find(
      (v) => v.attachment?.instanceId === replacement.instanceId && v.attachment.device === '/dev/sdf',
    )!
    expect(fresh.az).toBe('us-east-1c')
    expect(fresh.volumeId).not.toBe(data)
    // Measured on the fake's content: what the new volume starts from against the old one's last write.
    const startsAt = ec2.volumeContent(fresh.volumeId).at(-1)!
    expect(startsAt.data).toBe('order 3')
    const lostMs = lastWrite.at - startsAt.at
    expect(lostMs).toBeGreaterThan(0)
    expect(lostMs).toBeLessThanOrEqual(15 * MINUTE)
    expect(restored.data_loss_bound_seconds! * 1000).toBeGreaterThanOrEqual(lostMs)
    expect(restored.volumes).toEqual([
      { device: '/dev/sdf', old_volume_id: data, new_volume_id: fresh.volumeId, how: 'restored' },
    ])
    // The old volume, with the newest data, is kept by policy and no longer the workload's.
    expect(ec2.state.volumes.get(data)!.tags).toMatchObject({
      SpotGuardKeep: 'policy',
      SpotGuardRole: 'replaced-data-volume',
    })
    // A new interface in the new AZ's subnet: the address changed, and the old one is kept by policy.
    expect(restored.address).toMatchObject({ old_private_ip: privateIp, changed: true })
    const newEni = ec2.state.networkInterfaces.get(restored.address!.eni_id)!
    expect(newEni).toMatchObject({
      subnetId: w.subnets['us-east-1c'],
      attachment: { instanceId: replacement.instanceId, deviceIndex: 1 },
    })
    expect(ec2.state.networkInterfaces.get(eniId)!.tags).toMatchObject({ SpotGuardKeep: 'policy' })
    const report = await sentStateful(next)
    expect(report.stateful).toMatchObject({
      data_loss_bound_seconds: restored.data_loss_bound_seconds,
      volumes: [{ how: 'restored' }],
    })

    // The report landed: what the restore left behind in us-east-1a goes. EC2 holds the workload's new
    // volume and interface only.
    await deleteKeptAfterRestore(next.ctx, restored)
    expect([...ec2.state.volumes.keys()]).toEqual([fresh.volumeId])
    expect([...ec2.state.networkInterfaces.keys()]).toEqual([newEni.networkInterfaceId])
  })
})

describe('what a restore in another AZ left behind', () => {
  it('stays while the control plane lacks the restore report; the next start deletes it once the interrupted instance let go', async () => {
    const { ctx, data, eniId } = await statefulWorkload(recordingHttp())
    expect((await rollingSnapshots(ctx).runIfDue())!.taken).toHaveLength(1)
    ec2.settle()
    // The interrupted instance still holds its volume and interface until its end, in 2 minutes.
    const n = noticeIn(120_000)
    ec2.scheduleTermination(w.instanceId, Date.parse(n.time))
    const replacementId = seedReplacement('us-east-1c', n)
    const state = memoryState(clock.now)

    // The control plane does not answer: the restore's report stays queued, nothing is deleted.
    const first = replacementAgent(replacementId, heldReports(recordingHttp()), state)
    const restored = (await restoreIfReplacement(first.ctx))!
    const fresh = restored.volumes[0]!.new_volume_id
    const newEni = restored.address!.eni_id
    expect(restored.volumes).toEqual([
      { device: '/dev/sdf', old_volume_id: data, new_volume_id: fresh, how: 'restored' },
    ])
    // Once it waits for the report's delivery, nothing of it has been deleted.
    const link = first.ctx.link
    const delivered = link.delivered.bind(link)
    const waiting = new Promise<void>((resolve) => {
      link.delivered = (key) => (resolve(), delivered(key))
    })
    void deleteKeptAfterRestore(first.ctx, restored)
    await waiting
    expect(link.pendingReports).toBeGreaterThan(0)
    expect(ec2.requests.filter((r) => r.action.startsWith('Delete'))).toEqual([])
    for (const kept of [ec2.state.volumes.get(data), ec2.state.networkInterfaces.get(eniId)])
      expect(kept!.tags).toMatchObject({
        SpotGuardKeep: 'policy',
        SpotGuardAgentId: 'agent-1',
        SpotGuardRole: expect.stringMatching(/^replaced-/),
      })

    // The agent restarts (its outbox persisted) with the control plane back, before the old instance ended.
    const next = replacementAgent(replacementId, recordingHttp(), state)
    expect(await restoreIfReplacement(next.ctx)).toBeNull()
    next.ctx.link.kick()
    await deleteKeptAfterRestore(next.ctx, null)

    expect(next.http.calls.some((c) => c.path.endsWith('/switch-report'))).toBe(true)
    // Waited for EC2 to free them at the old instance's end: never forced off it.
    expect(ec2.instance(w.instanceId)!.state).toBe('terminated')
    expect(
      ec2.requests.filter((r) => r.action === 'DetachVolume' || r.action === 'DetachNetworkInterface'),
    ).toEqual([])
    expect([...ec2.state.volumes.keys()]).toEqual([fresh])
    expect([...ec2.state.networkInterfaces.keys()]).toEqual([newEni])
    expect(ec2.volumeContent(fresh).at(-1)!.data).toBe('order 3')
  })
})

describe('an interruption of a stateful workload with a standby replica', () => {
  it('the promoted replica sets aside the copy its image gave it and takes the live volume: nothing lost', async () => {
    const { standby, copy } = seedStandby('us-east-1a', 'i-0000000000000beef')
    const http = recordingHttp([
      (c) =>
        c.path.endsWith('/termination-imminent')
          ? { status: 200, body: { success: true, action: 'replica_promoted', new_instance_id: standby } }
          : undefined,
    ])
    const { ctx, data, eniId, privateIp } = await statefulWorkload(http)
    const lastWrite = ec2.volumeContent(data).at(-1)!
    const n = noticeIn(120_000)
    ec2.scheduleTermination(w.instanceId, Date.parse(n.time))

    expect(await handleNotice(ctx, n)).toMatchObject({ ok: true })
    expect(ec2.instance(standby)!.tags).toMatchObject({
      SpotGuardEmergencyNotice: n.id,
      ParentInstance: w.instanceId,
    })

    const next = replacementAgent(standby)
    const restored = (await restoreIfReplacement(next.ctx))!

    expect(ec2.state.volumes.get(data)!.attachment).toMatchObject({
      instanceId: standby,
      device: '/dev/sdf',
      state: 'attached',
    })
    expect(ec2.volumeContent(data).at(-1)).toEqual(lastWrite)
    expect(ec2.state.volumes.get(copy)!.attachment).toBeUndefined()
    expect(ec2.state.volumes.get(copy)!.tags).toMatchObject({
      SpotGuardKeep: 'policy',
      SpotGuardRole: 'replaced-data-volume',
    })
    expect(ec2.state.networkInterfaces.get(eniId)).toMatchObject({
      privateIp,
      attachment: { instanceId: standby, deviceIndex: 1 },
    })
    expect(restored).toMatchObject({ data_loss_bound_seconds: 0, volumes: [{ how: 'reattached' }] })
    const report = await sentStateful(next)
    expect(report).toMatchObject({
      trigger: 'interruption',
      old_instance: { instance_id: w.instanceId },
      new_instance: { instance_id: standby },
    })
  })
})

/**
 * Reports wait (in flight) until the test ends: on the instant clock, an outbox retrying a control
 * plane that is down would spin forever instead of backing off.
 */
function heldReports(http: ReturnType<typeof recordingHttp>): ReturnType<typeof recordingHttp> {
  const never = new Promise<void>(() => {})
  const request: typeof http.request = async (method, path, body, schema) => {
    if (!path.endsWith('/termination-imminent')) await never
    return http.request(method, path, body, schema)
  }
  return { ...http, request }
}
