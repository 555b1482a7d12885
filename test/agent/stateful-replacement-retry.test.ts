/**
 * A stateful workload interrupted without a replica while its own AZ has no capacity: the first launch
 * is refused, and the control plane's next attempt comes as a `create_replica` command. That launch too
 * carries the notice's tags, so the replacement it makes in another AZ takes the data back (restores it
 * from the newest rolling snapshot) instead of starting on its image's copy.
 */
import { expect, it } from 'vitest'
import { runCommand } from '../../agent/src/actions/dispatch'
import { handleNotice } from '../../agent/src/actions/notices'
import { establishInventory } from '../../agent/src/actions/stateful/inventory'
import { restoreIfReplacement } from '../../agent/src/actions/stateful/restore'
import { rollingSnapshots } from '../../agent/src/actions/stateful/snapshots'
import { actionContext } from './support/context'
import { recordingHttp } from './support/http'
import { clock, ec2, interruptionNotice, useSeededEc2, w } from './support/seeded-ec2'
import { elbv2, noReplica, statefulConfig, useFakeElbv2 } from './support/stateful'

const DEVICE = '/dev/sdf'
const stateful = statefulConfig({ rpo_minutes: 15 })

useSeededEc2({ lifecycle: 'spot', az: 'us-east-1a' })
useFakeElbv2()

it("the control plane's next attempt after a capacity refusal launches a replacement that restores the data elsewhere", async () => {
  const http = noReplica('rep-1', 'us-east-1a')
  const data = ec2.seed.addVolume({
    instanceId: w.instanceId,
    device: DEVICE,
    size: 20,
    content: ['order 1'],
  })
  const { ctx } = actionContext(ec2, w, clock, { http, elbv2, agentConfig: stateful })
  await establishInventory(ctx)
  expect((await rollingSnapshots(ctx).runIfDue())!.taken).toHaveLength(1)
  ec2.settle()
  ec2.workloadWrite(w.instanceId, DEVICE, 'order 2')
  const notice = interruptionNotice('n-no-capacity')
  ec2.scheduleTermination(w.instanceId, Date.parse(notice.time))
  ec2.failNext('RunInstances', 'InsufficientInstanceCapacity')

  expect(await handleNotice(ctx, notice)).toMatchObject({ ok: false, code: 'InsufficientInstanceCapacity' })
  // The control plane's next attempt: spot in another AZ.
  const retried = await runCommand(ctx, {
    id: 'cmd-rep-2',
    command_type: 'create_replica',
    instance_id: null,
    replica_id: 'rep-2',
    target_mode: 'spot',
    target_pool_id: 't3.medium.us-east-1c',
    priority: 100,
    created_at: new Date(clock.now()).toISOString(),
    expires_at: null,
  })
  expect(retried).toMatchObject({ ok: true })
  const replacement = [...ec2.state.instances.values()].find((i) => i.tags.ReplicaId === 'rep-2')!
  expect(replacement.az).toBe('us-east-1c')
  expect(replacement.tags).toMatchObject({
    SpotGuardEmergencyNotice: notice.id,
    ParentInstance: w.instanceId,
  })

  const next = actionContext(ec2, { ...w, instanceId: replacement.instanceId }, clock, {
    http: recordingHttp(),
    elbv2,
    agentConfig: stateful,
  })
  const restored = (await restoreIfReplacement(next.ctx))!

  const fresh = [...ec2.state.volumes.values()].find(
    (v) => v.attachment?.instanceId === replacement.instanceId && v.attachment.device === DEVICE,
  )!
  expect(restored.volumes).toEqual([
    { device: DEVICE, old_volume_id: data, new_volume_id: fresh.volumeId, how: 'restored' },
  ])
  expect(ec2.volumeContent(fresh.volumeId).map((r) => r.data)).toEqual(['order 1'])
  expect(restored.data_loss_bound_seconds).toBeGreaterThan(0)
})
