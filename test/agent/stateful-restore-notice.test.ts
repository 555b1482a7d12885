import { describe, expect, it } from 'vitest'
import type { ActionResult } from '../../agent/src/actions/context'
import { handleNotice } from '../../agent/src/actions/notices'
import { statefulStart } from '../../agent/src/actions/stateful/establish'
import { establishInventory } from '../../agent/src/actions/stateful/inventory'
import { restoreIfReplacement } from '../../agent/src/actions/stateful/restore'
import { rollingSnapshots } from '../../agent/src/actions/stateful/snapshots'
import { actionContext } from './support/context'
import { recordingHttp } from './support/http'
import { clock, ec2, interruptionNotice, useSeededEc2, w } from './support/seeded-ec2'
import { elbv2, noReplica, seedReplacement, statefulConfig, useFakeElbv2 } from './support/stateful'

const MINUTE = 60_000
const stateful = statefulConfig({ rpo_minutes: 15 })

useSeededEc2({ lifecycle: 'spot', az: 'us-east-1a' })
useFakeElbv2()

const agentOn = (instanceId: string, http = recordingHttp()) =>
  actionContext(ec2, { ...w, instanceId }, clock, { http, elbv2, agentConfig: stateful })

const noticeFor = (id: string) => interruptionNotice(id)

const launchedAfter = (known: string[]) =>
  [...ec2.state.instances.values()].find((i) => !known.includes(i.instanceId))!.instanceId

/**
 * The workload (a data volume that survives termination, its interface, writes) interrupted: its agent
 * releases its parts and the control plane places the replacement R in `az`.
 */
async function interruptedWorkload(
  az: string,
  beforeNotice: (ctx: ReturnType<typeof agentOn>['ctx']) => Promise<void>,
) {
  const data = ec2.seed.addVolume({ instanceId: w.instanceId, device: '/dev/sdf', size: 20 })
  const { ctx } = agentOn(w.instanceId, noReplica('rep-1', az))
  const { iface } = await establishInventory(ctx)
  for (const n of [1, 2, 3]) ec2.workloadWrite(w.instanceId, '/dev/sdf', `order ${n}`)
  await beforeNotice(ctx)
  const notice = noticeFor('n-first')
  ec2.scheduleTermination(w.instanceId, Date.parse(notice.time))
  expect(await handleNotice(ctx, notice)).toMatchObject({ ok: true })
  return { data, iface: iface!, replacement: launchedAfter([w.instanceId]) }
}

/**
 * R's agent starts (stateful/establish.ts); R's own notice comes when its restore first calls `action`
 * on EC2 (EC2 reclaims R too). Its control plane places the next replacement in `nextAz`.
 */
async function noticeWhileRestoring(replacement: string, action: string, nextAz: string) {
  const agent = agentOn(replacement, noReplica('rep-2', nextAz))
  const start = statefulStart(agent.ctx)
  const notice = noticeFor('n-second')
  let handled: Promise<{ result: ActionResult; at: number }> | null = null
  ec2.failWhen(action, () => {
    if (handled) return undefined
    ec2.scheduleTermination(replacement, Date.parse(notice.time))
    handled = handleNotice(agent.ctx, notice, start).then((result) => ({ result, at: clock.now() }))
    return undefined
  })
  start.begin()
  await start.settled()
  expect(handled).not.toBeNull()
  const { result, at } = await handled!
  // The notice ran within its budget: the restore did not hold it.
  expect(result).toMatchObject({ ok: true })
  expect(at).toBeLessThan(Date.parse(notice.time))
  expect(await agent.ctx.link.drain(Infinity)).toBe(true)
  return { ...agent, endsAt: Date.parse(notice.time) }
}

/** The notice stopped R's start: no restore reported for R, no inventory of a dying instance. */
function expectStartStopped(agent: Awaited<ReturnType<typeof noticeWhileRestoring>>) {
  expect(agent.http.calls.filter((c) => c.path.endsWith('/switch-report'))).toEqual([])
  expect(agent.http.calls.filter((c) => c.path.endsWith('/volumes'))).toEqual([])
}

/** Every volume is attached, the workload's (by its tags) or kept by policy: none orphaned untagged. */
function expectNoOrphanVolume() {
  for (const v of ec2.state.volumes.values())
    expect(
      v.attachment !== undefined ||
        v.tags.SpotGuardKeep === 'policy' ||
        v.tags.SpotGuardRole === 'data-volume',
      `${v.volumeId} orphaned`,
    ).toBe(true)
}

describe('an interruption notice on the replacement while it restores the stateful workload', () => {
  it('stops the restore, releases the volume it was attaching within the notice, and the next replacement reattaches it: nothing lost', async () => {
    const { data, iface, replacement } = await interruptedWorkload('us-east-1a', async () => {})
    const lastWrite = ec2.volumeContent(data).at(-1)!

    const r = await noticeWhileRestoring(replacement, 'AttachVolume', 'us-east-1a')

    // R let go of the volume and left the interface free before its end, for the next replacement.
    expect(ec2.state.volumes.get(data)!.attachment).toBeUndefined()
    expect(ec2.state.volumes.get(data)!.tags).toMatchObject({
      SpotGuardRole: 'data-volume',
      SpotGuardDevice: '/dev/sdf',
    })
    expect(ec2.state.networkInterfaces.get(iface.eniId)!.attachment).toBeUndefined()
    const release = r.http.calls.find((c) => c.path.endsWith('/interruption-drain'))!.body as {
      steps: Array<{ name: string; ok: boolean }>
    }
    expect(release.steps).toContainEqual(expect.objectContaining({ name: 'detach_volumes', ok: true }))
    expectStartStopped(r)

    // The next replacement (R2) takes the live volume and the address back before R even ends.
    const next = launchedAfter([w.instanceId, replacement])
    const again = (await restoreIfReplacement(agentOn(next).ctx))!
    expect(clock.now()).toBeLessThan(r.endsAt)
    expect(again).toMatchObject({
      data_loss_bound_seconds: 0,
      volumes: [{ device: '/dev/sdf', old_volume_id: data, new_volume_id: data, how: 'reattached' }],
      address: { eni_id: iface.eniId, changed: false },
    })
    expect(ec2.state.volumes.get(data)!.attachment).toMatchObject({ instanceId: next, state: 'attached' })
    expect(ec2.volumeContent(data).at(-1)).toEqual(lastWrite)
    expect(ec2.state.networkInterfaces.get(iface.eniId)!.attachment).toMatchObject({ instanceId: next })
    expect(ec2.state.volumes.size).toBe(1)
  })

  it("stops the restore from a snapshot before it attaches: the volume it made stays the workload's, tagged, and the next replacement takes it", async () => {
    // R goes to us-east-1c (no capacity in 1a): the data comes from the newest rolling snapshot.
    const { data, iface, replacement } = await interruptedWorkload('us-east-1c', async (ctx) => {
      expect((await rollingSnapshots(ctx).runIfDue())!.taken).toHaveLength(1)
      ec2.settle()
      clock.advance(5 * MINUTE)
      ec2.workloadWrite(w.instanceId, '/dev/sdf', 'late')
    })

    const r = await noticeWhileRestoring(replacement, 'CreateVolume', 'us-east-1c')

    // What R's restore made is not on R, and is still the workload's volume of /dev/sdf.
    const made = [...ec2.state.volumes.values()].find((v) => v.volumeId !== data)!
    expect(made.az).toBe('us-east-1c')
    expect(made.attachment).toBeUndefined()
    expect(made.tags).toMatchObject({
      SpotGuardRole: 'data-volume',
      SpotGuardAgentId: 'agent-1',
      SpotGuardDevice: '/dev/sdf',
    })
    // The live volume (in 1a, the newest data) is kept by policy; the interface in 1a was never touched.
    expect(ec2.state.volumes.get(data)!.tags).toMatchObject({ SpotGuardKeep: 'policy' })
    expect(ec2.state.networkInterfaces.get(iface.eniId)!.tags.SpotGuardRole).toBe('workload-interface')
    expectStartStopped(r)
    expectNoOrphanVolume()

    // The next replacement in R's AZ attaches that volume: the snapshot's data, nothing made twice.
    const next = launchedAfter([w.instanceId, replacement])
    const again = (await restoreIfReplacement(agentOn(next).ctx))!
    expect(again.volumes).toEqual([
      { device: '/dev/sdf', old_volume_id: made.volumeId, new_volume_id: made.volumeId, how: 'reattached' },
    ])
    expect(ec2.state.volumes.get(made.volumeId)!.attachment).toMatchObject({
      instanceId: next,
      device: '/dev/sdf',
    })
    expect(ec2.volumeContent(made.volumeId).at(-1)!.data).toBe('order 3')
    expect(again.address).toMatchObject({ old_private_ip: iface.privateIp, changed: true })
    expect(ec2.state.volumes.size).toBe(2)
    expectNoOrphanVolume()
  })

  it('stops while waiting for the interrupted instance to free the volume: no snapshot fallback, and the next replacement takes the volume once EC2 freed it', async () => {
    // The workload could not release its parts in its notice: it holds them until EC2 ends it.
    const data = ec2.seed.addVolume({ instanceId: w.instanceId, device: '/dev/sdf', size: 20 })
    const first = agentOn(w.instanceId)
    const { iface } = await establishInventory(first.ctx)
    expect((await rollingSnapshots(first.ctx).runIfDue())!.taken).toHaveLength(1)
    ec2.settle()
    clock.advance(5 * MINUTE)
    ec2.workloadWrite(w.instanceId, '/dev/sdf', 'late')
    const lastWrite = ec2.volumeContent(data).at(-1)!
    const firstNotice = noticeFor('n-first')
    ec2.scheduleTermination(w.instanceId, Date.parse(firstNotice.time))
    const replacement = seedReplacement('us-east-1a', firstNotice)
    ec2.settle()

    // R's notice comes while its restore waits for the first instance to let go of the volume.
    const r = await noticeWhileRestoring(replacement, 'DescribeVolumes', 'us-east-1a')

    // Nothing made from the snapshot, the live volume not set aside: it is still the workload's.
    expect(ec2.requests.filter((q) => q.action === 'CreateVolume')).toEqual([])
    expect(ec2.state.volumes.size).toBe(1)
    expect(ec2.state.volumes.get(data)!.tags).toMatchObject({ SpotGuardRole: 'data-volume' })
    expect(ec2.state.volumes.get(data)!.tags.SpotGuardKeep).toBeUndefined()
    expectStartStopped(r)

    // The next replacement's agent starts once EC2 ended the first instance and freed the volume.
    const next = launchedAfter([w.instanceId, replacement])
    clock.advance(2 * MINUTE)
    ec2.tick()
    ec2.settle()
    expect(ec2.instance(w.instanceId)!.state).toBe('terminated')
    const again = (await restoreIfReplacement(agentOn(next).ctx))!
    expect(again).toMatchObject({
      data_loss_bound_seconds: 0,
      volumes: [{ device: '/dev/sdf', old_volume_id: data, new_volume_id: data, how: 'reattached' }],
      address: { eni_id: iface!.eniId, changed: false },
    })
    expect(ec2.state.volumes.get(data)!.attachment).toMatchObject({ instanceId: next, device: '/dev/sdf' })
    expect(ec2.volumeContent(data).at(-1)).toEqual(lastWrite)
  })
})
