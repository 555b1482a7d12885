/**
 * The workload's Elastic IP as the control plane knows it: an instance registers with its own public IP
 * before a switch or a promotion moves the address onto it, so what they report is kept on the
 * instance, and the next interruption's promotion names that address for the promoted instance's agent
 * to find (even after the old host died and the address left it).
 */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, commands, instances } from '../../../src/db/schema'
import { eventually } from '../../support/eventually'
import { agentOn, freshType, reportPrices } from '../engine/market'
import { call, db, type TestAgent } from './helpers'

const ELASTIC_IP = '3.200.9.9'
const ec2Id = () => `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
const base = (a: TestAgent) => `/api/agents/${a.agentId}`

async function publicIpOf(instanceId: string) {
  const [row] = await db().select().from(instances).where(eq(instances.instanceId, instanceId))
  return row?.publicIp
}

/** A ready spot replica in pool b, as launched and reported by the agent. */
async function readyReplica(a: TestAgent) {
  const made = await call(
    'POST',
    `${base(a)}/create-emergency-replica`,
    { signal_type: 'rebalance-recommendation', instance_id: a.instanceId },
    a.client.auth,
  )
  const instanceId = ec2Id()
  await call('PUT', `${base(a)}/replicas/${made.json.replica_id}`, { instance_id: instanceId }, a.client.auth)
  await call('POST', `${base(a)}/replicas/${made.json.replica_id}/status`, { status: 'ready' }, a.client.auth)
  return { replicaId: made.json.replica_id as string, instanceId }
}

/** A notice to the agent's current instance; answers the promote_replica command it queued. */
async function interrupt(a: TestAgent, onInstance: string, replicaId: string) {
  const notice = {
    instance_id: onInstance,
    termination_time: new Date(Date.now() + 120_000).toISOString(),
    detected_at: new Date().toISOString(),
  }
  const answer = await call('POST', `${base(a)}/termination-imminent`, notice, a.client.auth)
  expect(answer.json).toMatchObject({ action: 'replica_promoted' })
  return eventually(
    async () => {
      const rows = await db()
        .select()
        .from(commands)
        .where(and(eq(commands.agentId, a.agentId), eq(commands.commandType, 'promote_replica')))
      return rows.find((row) => (row.payload as { replica_id?: string } | null)?.replica_id === replicaId)
    },
    { what: 'the promotion command', timeoutMs: 5_000, intervalMs: 20 },
  )
}

/** The workload moved by a switch to a new instance that registered at boot with its own IP. */
async function switchTo(a: TestAgent, type: string, reportedIp: string | null) {
  const [agent] = await db().select().from(agents).where(eq(agents.id, a.agentId))
  const next = ec2Id()
  const registered = await call(
    'POST',
    '/api/agents/register',
    {
      instance_id: next,
      instance_type: type,
      region: 'us-east-1',
      az: 'us-east-1c',
      mode: 'spot',
      agent_version: '5.0.0',
      logical_agent_id: agent!.logicalAgentId,
      public_ip: '54.1.2.3',
    },
    a.client.auth,
  )
  expect(registered.status).toBe(200)
  const side = { instance_type: type, region: 'us-east-1', mode: 'spot' }
  const report = await call(
    'POST',
    `${base(a)}/switch-report`,
    {
      trigger: 'manual',
      old_instance: { ...side, instance_id: a.instanceId, az: 'us-east-1a' },
      new_instance: { ...side, instance_id: next, az: 'us-east-1c', public_ip: reportedIp },
      timing: { traffic_switched_at: new Date().toISOString() },
    },
    a.client.auth,
  )
  expect(report.status).toBe(201)
  return next
}

describe("the workload's Elastic IP", () => {
  it("follows a switch's report onto the new instance, and the next promotion names it", async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    await reportPrices(a, type, { a: 0.0125, b: 0.013, c: 0.03 }, 'spot')
    const next = await switchTo(a, type, ELASTIC_IP)
    expect(await publicIpOf(next)).toBe(ELASTIC_IP)

    const replica = await readyReplica({ ...a, instanceId: next })
    const promote = await interrupt(a, next, replica.replicaId)
    expect(promote.payload).toMatchObject({ old_instance_id: next, old_public_ip: ELASTIC_IP })
  })

  it('a report without one keeps the IP the instance registered with', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const next = await switchTo(a, type, null)
    expect(await publicIpOf(next)).toBe('54.1.2.3')
  })

  it('follows a promotion (address-moved) onto the promoted instance, and the next promotion names it', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    await reportPrices(a, type, { a: 0.0125, b: 0.013, c: 0.03 }, 'spot')
    const first = await readyReplica(a)
    await interrupt(a, a.instanceId, first.replicaId)
    const moved = await call(
      'POST',
      `${base(a)}/replicas/${first.replicaId}/address-moved`,
      { public_ip: ELASTIC_IP },
      a.client.auth,
    )
    expect(moved.status).toBe(200)
    expect(await publicIpOf(first.instanceId)).toBe(ELASTIC_IP)

    const second = await readyReplica({ ...a, instanceId: first.instanceId })
    const promote = await interrupt(a, first.instanceId, second.replicaId)
    expect(promote.payload).toMatchObject({ old_instance_id: first.instanceId, old_public_ip: ELASTIC_IP })
  })
})
