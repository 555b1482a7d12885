/**
 * The workload's Elastic IP as the control plane knows it: an instance registers with its own public IP
 * before a switch or a promotion moves the address onto it, so what they report is kept on the
 * instance, and the next interruption's promotion names that address for the promoted instance's agent
 * to find (even after the old host died and the address left it).
 */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { statusAt } from '../../../src/db/queries/instance-status'
import { settleEndedInstances } from '../../../src/flows/instances'
import { agents, commands, instances, notifications } from '../../../src/db/schema'
import { eventually } from '../../support/eventually'
import { freshType, reportPrices } from '../engine/market'
import { call, db, newAgent, type TestAgent } from './helpers'

const ELASTIC_IP = '3.200.9.9'
const ec2Id = () => `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
const base = (a: TestAgent) => `/api/agents/${a.agentId}`

/** A spot agent of `version` in pool a of a priced market, registered with the Elastic IP. */
async function agentWithAddress(version = '5.0.0') {
  const type = freshType()
  const a = await newAgent(undefined, {
    instance_type: type,
    mode: 'spot',
    agent_version: version,
    public_ip: ELASTIC_IP,
  })
  await reportPrices(a, type, { a: 0.0125, b: 0.013, c: 0.03 }, 'spot')
  return { a, type }
}

/** The instances D1 says hold the address at `now`: the rows naming it that have not ended. */
async function holdersInD1(a: TestAgent, now: number) {
  const rows = await db().select().from(instances).where(eq(instances.agentId, a.agentId))
  return rows
    .filter((r) => r.publicIp === ELASTIC_IP && statusAt(r, now) !== 'terminated')
    .map((r) => r.instanceId)
}

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
  const registration = (publicIp: string) => ({
    instance_id: next,
    instance_type: type,
    region: 'us-east-1',
    az: 'us-east-1c',
    mode: 'spot',
    agent_version: '5.0.0',
    logical_agent_id: agent!.logicalAgentId,
    public_ip: publicIp,
  })
  // The new instance's agent boots before the switch is reported: it waits while the old one runs.
  const early = await call('POST', '/api/agents/register', registration('54.1.2.3'), a.client.auth)
  expect([early.status, early.json.action]).toEqual([409, 'standby'])
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
  // Registered after the report, it reads from IMDS the address it has by then.
  const registered = await call(
    'POST',
    '/api/agents/register',
    registration(reportedIp ?? '54.1.2.3'),
    a.client.auth,
  )
  expect(registered.status).toBe(200)
  return next
}

describe("the workload's Elastic IP", () => {
  it("follows a switch's report onto the new instance, and the next promotion names it", async () => {
    const { a, type } = await agentWithAddress()
    const next = await switchTo(a, type, ELASTIC_IP)
    expect(await publicIpOf(next)).toBe(ELASTIC_IP)

    const replica = await readyReplica({ ...a, instanceId: next })
    const promote = await interrupt(a, next, replica.replicaId)
    expect(promote.payload).toMatchObject({ old_instance_id: next, old_public_ip: ELASTIC_IP })
  })

  it('a report without one keeps the IP the instance registered with', async () => {
    const { a, type } = await agentWithAddress()
    const next = await switchTo(a, type, null)
    expect(await publicIpOf(next)).toBe('54.1.2.3')
  })

  it('follows a promotion (address-moved) onto the promoted instance, and the next promotion names it', async () => {
    const { a } = await agentWithAddress()
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

  it('stays on the interrupted instance of a 4.0.0 workload until EC2 ends it, then is held by nobody; the client is told once', async () => {
    const { a } = await agentWithAddress('4.0.0')
    const termination = Date.now() + 120_000
    const notice = {
      instance_id: a.instanceId,
      termination_time: new Date(termination).toISOString(),
      detected_at: new Date().toISOString(),
    }
    // 4.0.0 on a notice: the replica first, then termination-imminent (409), then it launches it.
    const created = await call(
      'POST',
      `${base(a)}/create-emergency-replica`,
      {
        signal_type: 'termination-notice',
        instance_id: a.instanceId,
        termination_time: notice.termination_time,
      },
      a.client.auth,
    )
    expect((await call('POST', `${base(a)}/termination-imminent`, notice, a.client.auth)).status).toBe(409)
    const replicaInstance = ec2Id()
    await call(
      'PUT',
      `${base(a)}/replicas/${created.json.replica_id}`,
      { instance_id: replicaInstance },
      a.client.auth,
    )
    // Its agent boots on the promoted instance and registers with the public IP that instance has.
    const [agent] = await db().select().from(agents).where(eq(agents.id, a.agentId))
    expect(agent!.instanceId).toBe(replicaInstance)
    const registered = await call(
      'POST',
      '/api/agents/register',
      {
        instance_id: replicaInstance,
        instance_type: 't3.medium',
        region: 'us-east-1',
        az: 'us-east-1b',
        mode: 'spot',
        agent_version: '4.0.0',
        logical_agent_id: agent!.logicalAgentId,
        public_ip: '54.7.7.7',
      },
      a.client.auth,
    )
    expect(registered.status).toBe(200)

    // EC2 keeps the Elastic IP on the interrupted instance while it runs: so does D1.
    expect(await holdersInD1(a, Date.now())).toEqual([a.instanceId])
    expect(await publicIpOf(replicaInstance)).toBe('54.7.7.7')
    // EC2 ends it at the notice's time and releases the address: D1 says nobody holds it then.
    expect(await holdersInD1(a, termination + 1)).toEqual([])
    await settleEndedInstances(db(), termination + 1)
    const [old] = await db().select().from(instances).where(eq(instances.instanceId, a.instanceId))
    expect(old).toMatchObject({ status: 'terminated', publicIp: ELASTIC_IP, terminatedAt: termination })
    expect(await holdersInD1(a, termination + 1)).toEqual([])

    const told = (await db().select().from(notifications).where(eq(notifications.agentId, a.agentId))).filter(
      (n) => n.message.includes(ELASTIC_IP),
    )
    expect(told).toHaveLength(1)
    expect(told[0]!.message).toContain(
      `${ELASTIC_IP} stays on ${a.instanceId} until EC2 ends it (${new Date(termination).toISOString()}), then is associated with no instance: associate it with ${replicaInstance}`,
    )
  })
})
