/**
 * A stateful workload interrupted without a replica while its own AZ has no capacity at all (issue 15,
 * item 3), across real processes on one simulated clock SPEED times real time: the workload writes every
 * simulated minute, its agent takes a rolling snapshot, then EC2 refuses every launch in that AZ (spot
 * and on-demand) and reclaims the instance. The control plane tries that AZ first (spot of another type,
 * then on-demand), then another AZ, where the replacement restores the data volume from the newest
 * completed rolling snapshot. Followed to what EC2 holds (the new volume's content
 * is the snapshot's, the records lost span at most the RPO, the old volume deleted by policy) and to what the
 * user sees (the interruption switch with its data loss bound and the changed address on its page).
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { queryD1, sql } from '../support/d1'
import { eventually } from '../support/eventually'
import { startE2eWorld, type E2eWorld } from '../support/fleet-harness'
import { registered } from '../support/fleet-waits'
import { expectInterruptionEnd, type InterruptionEnd } from '../support/interruption-end'
import { DATA_DEVICE, noCapacityIn, statefulWorkload, writeEveryMinute } from '../support/stateful-workload'

/** A simulated minute is 3 s: the fake's snapshot takes one. */
const SPEED = 20
/** Long enough that no second rolling round starts within the test, short enough to bound its loss. */
const RPO_MINUTES = 10
const RPO_MS = RPO_MINUTES * 60_000

let world: E2eWorld

beforeAll(async () => {
  // The settings change reaches the agent by push once its socket is up, else by its config refresh.
  world = await startE2eWorld({ agents: 1, speed: SPEED, agentEnv: { CONFIG_REFRESH_INTERVAL: '5' } })
})

afterAll(async () => {
  await world?.stop()
})

it('an interruption without a replica and no capacity in its AZ: restored in another AZ from the newest rolling snapshot, the loss within the RPO', async () => {
  const { fleet, worker, client } = world
  const ec2 = fleet.region.ec2
  const agent = await registered(world, 'agent-1')
  const oldInstanceId = agent.instanceId!
  const az = ec2.instance(oldInstanceId)!.az
  // Auto-switch off: the engine would move the replacement to a cheaper pool within the test.
  const { dataVolumeId, eni } = await statefulWorkload(
    world,
    agent,
    { rpoMinutes: RPO_MINUTES, autoSwitchEnabled: false },
    ['order 1', 'order 2'],
  )
  const writes = writeEveryMinute(ec2, oldInstanceId)
  let end: InterruptionEnd
  try {
    // The first rolling snapshot, completed, then the workload writes on past it.
    const snapshot = await eventually(
      () => {
        ec2.tick()
        return [...ec2.state.snapshots.values()].find(
          (s) =>
            s.volumeId === dataVolumeId &&
            s.tags.SpotGuardRole === 'rolling-snapshot' &&
            s.state === 'completed',
        )
      },
      { what: 'a completed rolling snapshot of the data volume', timeoutMs: 30_000 },
    )
    await eventually(() => ec2.volumeContent(dataVolumeId).some((r) => r.at > snapshot.startTime), {
      what: 'a write after the snapshot',
      timeoutMs: 15_000,
    })
    const allocationId = [...ec2.state.addresses.values()].find(
      (a) => a.instanceId === oldInstanceId,
    )!.allocationId

    const giveBack = noCapacityIn(ec2, az)
    try {
      fleet.region.interrupt(oldInstanceId, 120)
      end = await expectInterruptionEnd(world, {
        logicalAgentId: 'agent-1',
        agentId: agent.id,
        oldInstanceId,
        allocationId,
        addressFollows: true,
        viaReplica: true,
        newMode: null,
      })
    } finally {
      giveBack()
    }
  } finally {
    writes.stop()
  }
  const { switched, newInstanceId } = end

  // Its own AZ tried first (spot of another type it may run on, then on-demand), both refused; then elsewhere.
  const attempts = await queryD1<{ mode: string; az: string; instance_type: string; status: string }>(
    worker.persistDir,
    `select mode, az, instance_type, status from replicas where agent_id = '${sql(agent.id)}' order by created_at`,
  )
  const oldType = ec2.instance(oldInstanceId)!.instanceType
  expect(attempts.slice(0, 2).map((r) => [r.mode, r.az, r.instance_type === oldType, r.status])).toEqual([
    ['spot', az, false, 'failed'],
    ['ondemand', az, true, 'failed'],
  ])
  expect(attempts.slice(2).map((r) => [r.az === az, r.status])).toEqual([[false, 'promoted']])
  // EC2: the replacement in another AZ, its data volume new, made there from the newest completed snapshot.
  expect(ec2.instance(newInstanceId)!.az).not.toBe(az)
  const restored = await eventually(
    () =>
      [...ec2.state.volumes.values()].find(
        (v) =>
          v.attachment?.instanceId === newInstanceId &&
          v.attachment.device === DATA_DEVICE &&
          v.attachment.state === 'attached',
      ),
    { what: 'the restored data volume attached to the replacement', timeoutMs: 30_000 },
  )
  expect(restored.volumeId).not.toBe(dataVolumeId)
  expect(restored.az).toBe(ec2.instance(newInstanceId)!.az)
  ec2.tick()
  const newest = [...ec2.state.snapshots.values()]
    .filter((s) => s.volumeId === dataVolumeId && s.state === 'completed')
    .sort((a, b) => b.startTime - a.startTime)[0]!
  expect(restored.snapshotId).toBe(newest.snapshotId)
  expect(ec2.volumeContent(restored.volumeId)).toEqual(ec2.snapshotContent(newest.snapshotId))
  // The records lost: the workload's last write on the old volume against what the snapshot holds, at most the RPO.
  const lastWrite = writes.written.filter((w) => w.volumeId === dataVolumeId).at(-1)!
  const kept = ec2.volumeContent(restored.volumeId).at(-1)!
  const lostMs = lastWrite.at - kept.at
  expect(lostMs).toBeGreaterThan(0)
  expect(lostMs).toBeLessThanOrEqual(RPO_MS)
  // The old volume, left in the old AZ, deleted by policy once the restore's report landed and EC2 freed it.
  await eventually(() => !ec2.state.volumes.has(dataVolumeId) || undefined, {
    what: 'the old data volume deleted by policy',
    timeoutMs: 30_000,
  })
  // A new interface in the new AZ: the address changed.
  const moved = [...ec2.state.networkInterfaces.values()].find(
    (n) => n.tags.SpotGuardRole === 'workload-interface' && n.attachment?.instanceId === newInstanceId,
  )!
  expect(moved.subnetId).not.toBe(eni.subnetId)
  expect(moved.privateIp).not.toBe(eni.privateIp)

  // What the user sees: the switch's loss bound covers the real loss and stays within the RPO.
  const stateful = await eventually(
    async () => {
      const [row] = await queryD1<{ data_loss_bound_seconds: number | null; address_changed: number | null }>(
        worker.persistDir,
        `select data_loss_bound_seconds, address_changed from switches where id = '${sql(switched.id)}'`,
      )
      return row?.data_loss_bound_seconds != null ? row : undefined
    },
    { what: 'the switch’s stateful record', timeoutMs: 30_000 },
  )
  expect(stateful.data_loss_bound_seconds! * 1000).toBeGreaterThanOrEqual(lostMs)
  expect(stateful.data_loss_bound_seconds! * 1000).toBeLessThanOrEqual(RPO_MS)
  expect(stateful.address_changed).toBe(1)
  const page = await (await worker.admin(`/c/${client.id}/switches/${switched.id}`)).text()
  expect(page.slice(page.indexOf('id="data-loss"'))).toContain(
    `<strong>up to ${Math.ceil(stateful.data_loss_bound_seconds! / 60)} min of writes lost</strong>`,
  )
  expect(page).toContain('address changed')
  expect(page).toContain(moved.privateIp)
  expect(page).toContain(restored.volumeId)
  expect(page).toContain('restored')
})
