/**
 * The stateful-mode action tests' shared parts: the stateful config, a switch command to a pool, a fake
 * ELBv2 per test beside the seeded EC2 (`elbv2` is a live binding, as in seeded-ec2.ts), a stateful
 * workload with two data volumes and a standby replica with its image's copy of the data volume.
 */
import { afterEach, beforeEach } from 'vitest'
import { establishInventory } from '../../../agent/src/actions/stateful/inventory'
import type { AgentConfig, Command } from '../../../src/protocol'
import { startFakeElbv2, type FakeElbv2 } from '../../fakes'
import { configWith } from './agent-config'
import { actionContext } from './context'
import { recordingHttp } from './http'
import { clock, ec2, w } from './seeded-ec2'

export let elbv2: FakeElbv2

/** Registers the hooks that start a fake ELBv2 on the seeded EC2 before each test and close it after. */
export function useFakeElbv2(): void {
  beforeEach(async () => {
    elbv2 = await startFakeElbv2(ec2)
  })
  afterEach(() => elbv2.close())
}

/** The stateful mode on (drains target groups by default), with `over` on top. */
export const statefulConfig = (over: Partial<AgentConfig> = {}): AgentConfig => ({
  ...configWith(undefined),
  stateful: true,
  ...over,
})

export type SwitchCommand = Extract<Command, { command_type: 'switch' }>

/** A switch command to `pool` (spot), its id `id`. */
export const switchTo = (
  pool: string,
  id = `cmd-switch-${pool}`,
  terminateWaitSeconds = 0,
): SwitchCommand => ({
  id,
  command_type: 'switch',
  instance_id: null,
  target_mode: 'spot',
  target_pool_id: pool,
  priority: 75,
  terminate_wait_seconds: terminateWaitSeconds,
  created_at: '2026-01-01T00:00:00Z',
  expires_at: null,
})

/** The seeded workload made stateful: two data volumes with records, its inventory established (managed interface on it). */
export async function statefulWorkload() {
  const data = ec2.seed.addVolume({ instanceId: w.instanceId, device: '/dev/sdf', size: 50 })
  const logs = ec2.seed.addVolume({ instanceId: w.instanceId, device: '/dev/sdg', size: 10 })
  const http = recordingHttp()
  const { ctx } = actionContext(ec2, w, clock, { http, elbv2, agentConfig: statefulConfig() })
  const inventory = await establishInventory(ctx)
  ec2.workloadWrite(w.instanceId, '/dev/sdf', 'order 1')
  ec2.workloadWrite(w.instanceId, '/dev/sdf', 'order 2')
  ec2.workloadWrite(w.instanceId, '/dev/sdg', 'log 1')
  return { ctx, http, data, logs, eniId: inventory.iface!.eniId, privateIp: inventory.iface!.privateIp }
}

/** A standby replica of the workload in `az` (launched from `parent`) with the copy of /dev/sdf its image gave it. */
export function seedStandby(az: string, parent: string): { standby: string; copy: string } {
  const standby = ec2.seed.addInstance({
    imageId: w.launchImageId,
    instanceType: 't3.medium',
    subnetId: w.subnets[az]!,
    securityGroupIds: [w.securityGroupId],
    lifecycle: 'spot',
    tags: {
      ManagedBy: 'SpotOptimizer',
      LogicalAgentId: 'agent-web-1',
      ReplicaId: 'rep-standby',
      ParentInstance: parent,
    },
  }).instanceId
  return { standby, copy: ec2.seed.addVolume({ instanceId: standby, device: '/dev/sdf', size: 20 }) }
}

/** A control plane with no replica to promote: it places the replacement on-demand in `az`. */
export const noReplica = (replicaId: string, az: string) =>
  recordingHttp([
    (c) =>
      c.path.endsWith('/termination-imminent') ? { status: 409, body: { error: 'no replica' } } : undefined,
    (c) =>
      c.path.endsWith('/create-emergency-replica')
        ? {
            status: 201,
            body: {
              replica_id: replicaId,
              instance_id: null,
              mode: 'ondemand',
              pool: { id: `t3.medium.${az}`, az },
            },
          }
        : undefined,
  ])

/** A replacement launched in `az` for the notice `n` of the workload's instance, which still runs. */
export function seedReplacement(az: string, n: { id: string; time: string }): string {
  return ec2.seed.addInstance({
    imageId: w.launchImageId,
    instanceType: 't3.medium',
    subnetId: w.subnets[az]!,
    securityGroupIds: [w.securityGroupId],
    lifecycle: 'on-demand',
    tags: {
      SpotGuardEmergencyNotice: n.id,
      SpotGuardEmergencyDetectedAt: new Date(clock.now()).toISOString(),
      SpotGuardEmergencyOldEndsAt: n.time,
      SpotGuardEmergencyOldAz: 'us-east-1a',
      SpotGuardEmergencyOldMode: 'spot',
      SpotGuardEmergencyImageSource: 'launch_ami',
      ParentInstance: w.instanceId,
    },
  }).instanceId
}
