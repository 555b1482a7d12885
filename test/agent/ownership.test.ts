/**
 * A control plane (or whoever holds a client token) names instance ids; the agent ends, or moves the
 * workload's address to or from, only instances tagged as its own (agent/src/actions/ownership.ts).
 * Each attack runs against the fake EC2 and ends with what EC2 still holds.
 */
import { describe, expect, it } from 'vitest'
import { launchReplica, runPromoteReplica, runTerminateReplica } from '../../agent/src/actions/replica'
import { runTerminateInstance } from '../../agent/src/actions/terminate'
import { createIntake } from '../../agent/src/commands'
import { eventually } from '../support/eventually'
import { actionContext } from './support/context'
import { clock, ec2, useSeededEc2, w } from './support/seeded-ec2'

useSeededEc2({ lifecycle: 'spot', az: 'us-east-1a' })

/** The customer's production database: same account and VPC, not SpotGuard's, with its own Elastic IP. */
function proddb(tags: Record<string, string> = { Name: 'proddb' }) {
  const source = ec2.instance(w.instanceId)!
  const db = ec2.seed.addInstance({
    imageId: w.launchImageId,
    instanceType: 'r6i.large',
    subnetId: source.subnetId,
    securityGroupIds: source.securityGroupIds,
    tags,
    lifecycle: 'on-demand',
    state: 'running',
  })
  const address = ec2.seed.addAddress({ instanceId: db.instanceId })
  return { instanceId: db.instanceId, ...address }
}

const base = { instance_id: null, priority: 75, created_at: '2026-01-01T00:00:00Z', expires_at: null }
const terminateReplica = (replicaId: string, instanceId: string) => ({
  ...base,
  id: `c-t-${replicaId}`,
  command_type: 'terminate_replica' as const,
  replica_id: replicaId,
  replica_instance_id: instanceId,
})
const promote = (replicaId: string, instanceId: string, extra: Record<string, string> = {}) => ({
  ...base,
  id: `c-p-${replicaId}`,
  command_type: 'promote_replica' as const,
  priority: 100,
  replica_id: replicaId,
  replica_instance_id: instanceId,
  ...extra,
})

async function launchedReplica(ctx: ReturnType<typeof actionContext>['ctx'], replicaId: string) {
  await launchReplica(ctx, { replicaId, poolId: 't3.medium.us-east-1b', az: null, replicaType: 'manual' })
  return [...ec2.state.instances.values()].find((i) => i.tags.ReplicaId === replicaId)!
}

describe('the agent acts only on instances tagged as its own', () => {
  it("a control plane naming an instance not tagged as this agent's replica cannot make the agent terminate it", async () => {
    const db = proddb()
    const { ctx, http } = actionContext(ec2, w, clock)
    const result = await runTerminateReplica(ctx, terminateReplica('rep-x', db.instanceId))
    expect(result).toEqual({
      ok: false,
      code: 'Refused',
      message: `${db.instanceId} is not tagged as this agent's replica rep-x (ManagedBy missing)`,
      retryable: false,
    })
    expect(ec2.count('TerminateInstances')).toBe(0)
    expect(ec2.instance(db.instanceId)!.state).toBe('running')
    // The replica record is not reported terminated: nothing was.
    expect(http.calls).toEqual([])
  })

  it("another agent's replica, or another replica of this workload, is not the command's replica either", async () => {
    const { ctx } = actionContext(ec2, w, clock)
    const foreign = proddb({
      ManagedBy: 'SpotOptimizer',
      LogicalAgentId: 'agent-billing',
      ReplicaId: 'rep-y',
    })
    const sibling = await launchedReplica(ctx, 'rep-other')

    const refusedForeign = await runTerminateReplica(ctx, terminateReplica('rep-y', foreign.instanceId))
    const refusedSibling = await runTerminateReplica(ctx, terminateReplica('rep-y', sibling.instanceId))

    expect(refusedForeign).toMatchObject({
      code: 'Refused',
      message: expect.stringContaining('(LogicalAgentId is "agent-billing")'),
    })
    expect(refusedSibling).toMatchObject({
      code: 'Refused',
      message: expect.stringContaining('(ReplicaId is "rep-other")'),
    })
    expect(ec2.count('TerminateInstances')).toBe(0)
    expect(ec2.instance(foreign.instanceId)!.state).toBe('running')
    expect(ec2.instance(sibling.instanceId)!.state).not.toMatch(/shutting-down|terminated/)
  })

  it('a terminate_instance naming an instance outside the workload is refused', async () => {
    const db = proddb({ Name: 'proddb', LogicalAgentId: 'agent-web-1' })
    const { ctx } = actionContext(ec2, w, clock)
    const result = await runTerminateInstance(ctx, {
      ...base,
      id: 'c-ti',
      command_type: 'terminate_instance' as const,
      target_instance_id: db.instanceId,
      reason: 'switched away',
    })
    expect(result).toMatchObject({ ok: false, code: 'Refused' })
    expect(ec2.instance(db.instanceId)!.state).toBe('running')
  })

  it('a promotion naming an instance not tagged as the replica moves no address and keeps this agent the primary', async () => {
    const db = proddb()
    const { ctx, retired, http } = actionContext(ec2, w, clock)
    const result = await runPromoteReplica(
      ctx,
      promote('rep-x', db.instanceId, { old_instance_id: w.instanceId, old_public_ip: w.publicIp }),
    )
    expect(result).toMatchObject({
      ok: false,
      code: 'Refused',
      message: `${db.instanceId} is not tagged as this agent's replica rep-x (ManagedBy missing)`,
    })
    expect(ec2.count('AssociateAddress')).toBe(0)
    expect(ec2.state.addresses.get(w.allocationId)!.instanceId).toBe(w.instanceId)
    expect(ec2.state.addresses.get(db.allocationId)!.instanceId).toBe(db.instanceId)
    expect(retired).toEqual([])
    expect(http.calls).toEqual([])
  })

  it("a promotion naming another instance's Elastic IP does not take it from that instance", async () => {
    const { ctx, retired } = actionContext(ec2, w, clock)
    const replica = await launchedReplica(ctx, 'rep-5')
    const db = proddb()
    const result = await runPromoteReplica(
      ctx,
      promote('rep-5', replica.instanceId, { old_instance_id: w.instanceId, old_public_ip: db.publicIp }),
    )
    expect(result).toMatchObject({
      ok: false,
      code: 'Refused',
      message: expect.stringContaining(
        `${db.instanceId} is not tagged as an instance of this agent's workload`,
      ),
    })
    expect(ec2.count('AssociateAddress')).toBe(0)
    expect(ec2.state.addresses.get(db.allocationId)!.instanceId).toBe(db.instanceId)
    expect(ec2.state.addresses.get(w.allocationId)!.instanceId).toBe(w.instanceId)
    expect(retired).toEqual([])
  })

  it('the command result the control plane receives says why it was refused', async () => {
    const db = proddb()
    const { ctx, http, state } = actionContext(ec2, w, clock)
    const command = terminateReplica('rep-x', db.instanceId)
    const intake = createIntake(ctx)
    intake.offer(command, 'socket')
    // Claimed first (one request), then run.
    await eventually(() => state.isExecuted(command.id), { what: 'the command run' })
    await ctx.link.delivered(`executed:${command.id}`)
    expect(http.calls.find((c) => c.path.endsWith('/executed'))).toMatchObject({
      path: `/api/agents/agent-1/commands/${command.id}/executed`,
      body: {
        success: false,
        message: `Refused: ${db.instanceId} is not tagged as this agent's replica rep-x (ManagedBy missing)`,
      },
    })
    expect(ec2.instance(db.instanceId)!.state).toBe('running')
  })

  it('an untagged original is tagged as the workload when it launches a replica, so the replica can take the address from it', async () => {
    expect(ec2.instance(w.instanceId)!.tags.ManagedBy).toBeUndefined()
    const { ctx: old } = actionContext(ec2, w, clock)
    const replica = await launchedReplica(old, 'rep-6')
    expect(ec2.instance(w.instanceId)!.tags).toMatchObject({
      ManagedBy: 'SpotOptimizer',
      LogicalAgentId: 'agent-web-1',
    })
    // The replica's own agent promotes itself while the old primary still holds the address.
    const { ctx } = actionContext(ec2, { ...w, instanceId: replica.instanceId }, clock)
    const result = await runPromoteReplica(
      ctx,
      promote('rep-6', replica.instanceId, { old_instance_id: w.instanceId, old_public_ip: w.publicIp }),
    )
    expect(result).toMatchObject({ ok: true })
    expect(ec2.state.addresses.get(w.allocationId)!.instanceId).toBe(replica.instanceId)
  })
})
