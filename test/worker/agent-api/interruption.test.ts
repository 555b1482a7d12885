/**
 * Every interruption ends with the workload moved and recorded: the control plane's side of each path
 * (a replica that becomes usable after the notice, installed agents, repeated notices and promotions,
 * a promotion's command failing, replacements refused for capacity, moot replicas).
 */
import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import {
  agents,
  commands,
  events,
  instances,
  notifications,
  replicas,
  switches,
  usageSegments,
} from '../../../src/db/schema'
import { settleEndedInstances } from '../../../src/flows/instances'
import { maintainStandby } from '../../../src/flows/failover/standby'
import { sessionOf } from '../../../src/session/stub'
import { NOTICE_GRACE_MS } from '../../../src/session/queue'
import { syncSegments } from '../../../src/flows/ledger/segments'
import { eventually } from '../../support/eventually'
import { agentOn, freshType, loadAgent, reportPrices, ON_DEMAND } from '../engine/market'
import { ADMIN, call, db, runCommand, tableCounts, type TestAgent } from './helpers'

const ec2Id = () => `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
const base = (a: TestAgent) => `/api/agents/${a.agentId}`

/** A notice whose termination comes `inMs` after now (AWS's clock, as IMDS shows it). */
function noticeOf(a: TestAgent, inMs = 120_000) {
  const at = Date.now() + inMs
  return {
    body: {
      instance_id: a.instanceId,
      termination_time: new Date(at).toISOString(),
      detected_at: new Date().toISOString(),
    },
    at,
  }
}

/** A spot agent in pool a of a priced market (b the cheapest other pool, then c). */
async function spotAgent(version = '5.0.0') {
  const type = freshType()
  const a = await agentOn(type, 'spot', version)
  await reportPrices(a, type, { a: 0.0125, b: 0.013, c: 0.03 }, 'spot')
  return { a, type }
}

const rowsOf = async <T extends typeof replicas | typeof switches | typeof events | typeof notifications>(
  table: T,
  agentId: string,
) => db().select().from(table).where(eq(table.agentId, agentId))

const commandsOf = (agentId: string, type: string) =>
  db()
    .select()
    .from(commands)
    .where(and(eq(commands.agentId, agentId), eq(commands.commandType, type)))
    .orderBy(commands.createdAt)

async function instanceRow(instanceId: string) {
  const [row] = await db().select().from(instances).where(eq(instances.instanceId, instanceId))
  return row
}

/** termination-imminent → 409, then create-emergency-replica as a 5.x agent does after it. */
async function noticeWithoutReplica(a: TestAgent, inMs?: number) {
  const notice = noticeOf(a, inMs)
  const first = await call('POST', `${base(a)}/termination-imminent`, notice.body, a.client.auth)
  expect(first.status).toBe(409)
  const created = await call(
    'POST',
    `${base(a)}/create-emergency-replica`,
    {
      signal_type: 'termination-notice',
      instance_id: a.instanceId,
      termination_time: notice.body.termination_time,
    },
    a.client.auth,
  )
  expect(created.status).toBe(201)
  return { notice, replicaId: created.json.replica_id as string, pool: created.json.pool.id as string }
}

describe('an emergency replica launched after the notice', () => {
  it('is promoted the moment its instance id arrives: one interruption switch with prices, the old instance ended at the notice time, the follow-up queued', async () => {
    const { a, type } = await spotAgent()
    const { notice, replicaId, pool } = await noticeWithoutReplica(a)
    expect(pool).toBe(`${type}.us-east-1b`)
    const replicaInstance = ec2Id()
    const put = await call(
      'PUT',
      `${base(a)}/replicas/${replicaId}`,
      { instance_id: replicaInstance },
      a.client.auth,
    )
    expect(put.json).toMatchObject({ success: true, status: 'promoted' })

    expect((await loadAgent(a.agentId)).instanceId).toBe(replicaInstance)
    const [replica] = await rowsOf(replicas, a.agentId)
    expect(replica).toMatchObject({ status: 'promoted', instanceId: replicaInstance })
    const [sw, ...more] = await rowsOf(switches, a.agentId)
    expect(more).toEqual([])
    expect(sw).toMatchObject({
      trigger: 'interruption',
      oldInstanceId: a.instanceId,
      newInstanceId: replicaInstance,
      oldPoolId: `${type}.us-east-1a`,
      newPoolId: `${type}.us-east-1b`,
      oldPrice: 0.0125,
      newPrice: 0.013,
      onDemandPrice: ON_DEMAND,
      oldTerminatedAt: notice.at,
      errorMessage: null,
    })
    // EC2 runs it until the notice's time: terminating until then, terminated from then on.
    expect(await instanceRow(a.instanceId)).toMatchObject({ status: 'terminating', terminatedAt: notice.at })
    await settleEndedInstances(db(), notice.at - 1)
    expect((await instanceRow(a.instanceId))!.status).toBe('terminating')
    await settleEndedInstances(db(), notice.at)
    expect((await instanceRow(a.instanceId))!.status).toBe('terminated')
    expect(await instanceRow(replicaInstance)).toMatchObject({
      status: 'active',
      poolId: `${type}.us-east-1b`,
    })
    const [event] = await rowsOf(events, a.agentId)
    expect(event).toMatchObject({
      kind: 'termination_notice',
      action: 'replica_promoted',
      replicaId,
      newInstanceId: replicaInstance,
      failoverMs: null,
    })
    const [promote] = await commandsOf(a.agentId, 'promote_replica')
    expect(promote).toMatchObject({
      priority: 100,
      payload: {
        replica_id: replicaId,
        replica_instance_id: replicaInstance,
        old_instance_id: a.instanceId,
        not_after: notice.body.termination_time,
      },
    })
    expect(sw!.commandId).toBe(promote!.id)
    const said = (await rowsOf(notifications, a.agentId))
      .filter((n) => n.kind === 'interruption')
      .map((n) => n.message)
    expect(said).toEqual([
      expect.stringContaining('an emergency replacement is being launched'),
      expect.stringContaining(`${replicaInstance} (${type}.us-east-1b) promoted to primary`),
    ])

    // The old agent moves the address and completes the command: the failover ends there.
    await call(
      'POST',
      `${base(a)}/replicas/${replicaId}/address-moved`,
      { public_ip: '198.51.100.7' },
      a.client.auth,
    )
    await runCommand(a, promote!.id, a.instanceId, true, 'Elastic IP moved')
    const failover = await eventually(async () => (await rowsOf(events, a.agentId))[0]?.failoverMs, {
      what: 'the failover time',
      timeoutMs: 5_000,
      intervalMs: 20,
    })
    expect(failover).toBeGreaterThanOrEqual(0)
    expect(failover).toBeLessThan(60_000)
    const [moved] = await rowsOf(switches, a.agentId)
    expect(moved!.trafficSwitchedAt).toBeGreaterThanOrEqual(sw!.receivedAt)
    // The address moved while the old instance still ran: no gap.
    expect(moved!.downtimeMs).toBe(0)

    // What people see: its prices and their effect, in history and the CSV.
    const history = await call('GET', `/api/client/${a.client.id}/switch-history`, undefined, ADMIN)
    expect(history.json[0]).toMatchObject({
      trigger: 'interruption',
      price: 0.013,
      onDemandPrice: ON_DEMAND,
      savingsImpact: -0.0005,
      downtimeMs: 0,
    })
    const csv = (await call('GET', `/api/client/${a.client.id}/export/switches.csv`, undefined, ADMIN)).text
    expect(csv).toContain(`,${type}.us-east-1a,${type}.us-east-1b,interruption,0.013,-0.0005,0\r\n`)
  })

  it('hands a promote command the old host could not finish to the promoted instance, and marks and notifies a second failure', async () => {
    const { a } = await spotAgent()
    const { replicaId } = await noticeWithoutReplica(a)
    const replicaInstance = ec2Id()
    await call('PUT', `${base(a)}/replicas/${replicaId}`, { instance_id: replicaInstance }, a.client.auth)
    const [first] = await commandsOf(a.agentId, 'promote_replica')
    await runCommand(
      a,
      first!.id,
      a.instanceId,
      false,
      'ReplicaNotRunning: still pending at the interruption',
    )

    const handed = await eventually(async () => (await commandsOf(a.agentId, 'promote_replica'))[1], {
      what: 'the command handed over',
      timeoutMs: 5_000,
      intervalMs: 20,
    })
    expect(handed).toMatchObject({ instanceId: replicaInstance, payload: { old_instance_id: a.instanceId } })
    expect((await rowsOf(switches, a.agentId))[0]!.commandId).toBe(handed.id)
    // Only the promoted instance may claim it.
    const elsewhere = await call(
      'POST',
      `${base(a)}/commands/${handed.id}/ack`,
      { instance_id: a.instanceId },
      a.client.auth,
    )
    expect(elsewhere.status).toBe(409)

    await runCommand(a, handed.id, replicaInstance, false, 'PromoteFailed: UnauthorizedOperation')
    const [sw] = await eventually(
      async () => {
        const rows = await rowsOf(switches, a.agentId)
        return rows[0]?.errorMessage ? rows : undefined
      },
      { what: 'the switch marked', timeoutMs: 5_000, intervalMs: 20 },
    )
    expect(sw!.errorMessage).toContain('UnauthorizedOperation')
    const [replica] = await rowsOf(replicas, a.agentId)
    expect(replica).toMatchObject({
      status: 'promoted',
      errorMessage: expect.stringContaining('UnauthorizedOperation'),
    })
    const failed = (await rowsOf(notifications, a.agentId)).filter((n) => n.kind === 'switch_failed')
    expect(failed).toMatchObject([{ severity: 'error', message: expect.stringContaining(replicaInstance) }])
    expect((await rowsOf(events, a.agentId))[0]!.failoverMs).toBeNull()
    expect(await commandsOf(a.agentId, 'promote_replica')).toHaveLength(2)
  })
})

describe('an installed 4.0.0 agent', () => {
  it('asks for the replica first, is answered 409, launches it from its poll: the control plane promotes it on its own and says the address stays', async () => {
    const { a, type } = await spotAgent('4.0.0')
    const notice = noticeOf(a)
    const created = await call(
      'POST',
      `${base(a)}/create-emergency-replica`,
      {
        signal_type: 'termination-notice',
        instance_id: a.instanceId,
        termination_time: notice.body.termination_time,
      },
      a.client.auth,
    )
    expect(created.status).toBe(201)
    expect((await call('POST', `${base(a)}/termination-imminent`, notice.body, a.client.auth)).status).toBe(
      409,
    )
    const listed = await call('GET', `${base(a)}/replicas?status=launching`, undefined, a.client.auth)
    expect(listed.json.replicas.map((r: { id: string }) => r.id)).toEqual([created.json.replica_id])

    const replicaInstance = ec2Id()
    await call(
      'PUT',
      `${base(a)}/replicas/${created.json.replica_id}`,
      { instance_id: replicaInstance, status: 'syncing' },
      a.client.auth,
    )
    expect((await loadAgent(a.agentId)).instanceId).toBe(replicaInstance)
    const [event] = await rowsOf(events, a.agentId)
    expect(event).toMatchObject({ action: 'replica_promoted', newInstanceId: replicaInstance })
    expect(event!.failoverMs).toBeGreaterThanOrEqual(0)
    expect(await commandsOf(a.agentId, 'promote_replica')).toEqual([])
    const said = (await rowsOf(notifications, a.agentId)).filter((n) => n.kind === 'interruption').at(-1)
    expect(said?.message).toContain("can't move the Elastic IP")

    // Its ready report comes after the promotion: accepted, the switch dated by it.
    const ready = await call(
      'POST',
      `${base(a)}/replicas/${created.json.replica_id}/status`,
      { status: 'ready' },
      a.client.auth,
    )
    expect(ready.status).toBe(200)
    const [replica] = await rowsOf(replicas, a.agentId)
    expect(replica).toMatchObject({ status: 'promoted', readyAt: expect.any(Number) })
    const [sw] = await rowsOf(switches, a.agentId)
    expect(sw).toMatchObject({
      trigger: 'interruption',
      newPoolId: `${type}.us-east-1b`,
      readyAt: replica!.readyAt,
    })
  })

  it('restarted on the interrupted instance after the promotion, is refused (409 retired): the promoted instance stays the primary', async () => {
    const { a, type } = await spotAgent('4.0.0')
    const notice = noticeOf(a)
    const created = await call(
      'POST',
      `${base(a)}/create-emergency-replica`,
      {
        signal_type: 'termination-notice',
        instance_id: a.instanceId,
        termination_time: notice.body.termination_time,
      },
      a.client.auth,
    )
    await call('POST', `${base(a)}/termination-imminent`, notice.body, a.client.auth)
    const replicaInstance = ec2Id()
    await call(
      'PUT',
      `${base(a)}/replicas/${created.json.replica_id}`,
      { instance_id: replicaInstance },
      a.client.auth,
    )
    const agent = await loadAgent(a.agentId)
    expect(agent.instanceId).toBe(replicaInstance)

    // systemd restarts the 4.0.0 agent on the interrupted host, which EC2 runs until the notice's time.
    const before = await tableCounts()
    const again = await call(
      'POST',
      '/api/agents/register',
      {
        instance_id: a.instanceId,
        instance_type: type,
        region: 'us-east-1',
        az: 'us-east-1a',
        mode: 'spot',
        agent_version: '4.0.0',
        logical_agent_id: agent.logicalAgentId,
      },
      a.client.auth,
    )
    expect(again.status).toBe(409)
    expect(again.json).toMatchObject({ action: 'retired', instance_status: 'terminating' })
    expect(await tableCounts()).toEqual(before)
    expect((await loadAgent(a.agentId)).instanceId).toBe(replicaInstance)
    expect(await instanceRow(a.instanceId)).toMatchObject({ status: 'terminating', terminatedAt: notice.at })
  })

  it('a replica asked for on a notice that another replica answered is moot: ended, never listed as launching', async () => {
    const { a, type } = await spotAgent('4.0.0')
    // A replica ready in pool b since a rebalance.
    const standby = await call(
      'POST',
      `${base(a)}/create-emergency-replica`,
      { signal_type: 'rebalance-recommendation', instance_id: a.instanceId },
      a.client.auth,
    )
    const ready = ec2Id()
    await call('PUT', `${base(a)}/replicas/${standby.json.replica_id}`, { instance_id: ready }, a.client.auth)
    await call(
      'POST',
      `${base(a)}/replicas/${standby.json.replica_id}/status`,
      { status: 'ready' },
      a.client.auth,
    )
    // 4.0.0 on a notice: create-emergency-replica, then termination-imminent.
    const notice = noticeOf(a)
    const asked = await call(
      'POST',
      `${base(a)}/create-emergency-replica`,
      {
        signal_type: 'termination-notice',
        instance_id: a.instanceId,
        termination_time: notice.body.termination_time,
      },
      a.client.auth,
    )
    expect(asked.status).toBe(201)
    const answer = await call('POST', `${base(a)}/termination-imminent`, notice.body, a.client.auth)
    expect(answer.json).toMatchObject({ success: true, new_instance_id: ready })

    const listed = await call('GET', `${base(a)}/replicas?status=launching`, undefined, a.client.auth)
    expect(listed.json.replicas).toEqual([])
    const moot = (await rowsOf(replicas, a.agentId)).find((r) => r.id === asked.json.replica_id)
    expect(moot).toMatchObject({ status: 'terminated', errorMessage: expect.stringContaining('moot') })
    expect((await rowsOf(switches, a.agentId)).map((s) => [s.trigger, s.newPoolId])).toEqual([
      ['interruption', `${type}.us-east-1b`],
    ])
  })

  it('never lists a launching replica in the pool its primary runs in, and the sweep ends it', async () => {
    const { a, type } = await spotAgent('4.0.0')
    const [inOwnPool] = await db()
      .insert(replicas)
      .values({
        id: `rep_${crypto.randomUUID().replaceAll('-', '')}`,
        clientId: a.client.id,
        agentId: a.agentId,
        replicaType: 'emergency',
        status: 'launching',
        poolId: `${type}.us-east-1a`,
        instanceType: type,
        region: 'us-east-1',
        az: 'us-east-1a',
        parentInstanceId: 'i-0elsewhere0000000',
        createdAt: Date.now(),
        updatedAt: Date.now(),
      })
      .returning()
    const listed = await call('GET', `${base(a)}/replicas?status=launching`, undefined, a.client.auth)
    expect(listed.json.replicas).toEqual([])
    await maintainStandby(env, db(), await loadAgent(a.agentId), Date.now())
    const [row] = await db().select().from(replicas).where(eq(replicas.id, inOwnPool!.id))
    expect(row).toMatchObject({
      status: 'terminated',
      errorMessage: expect.stringContaining("primary's own pool"),
    })
  })
  it('a moot replica that a 4.0.0 agent cannot terminate stays live, billed, and the client is told to end it in EC2', async () => {
    const { a, type } = await spotAgent('4.0.0')
    const replicaInstance = ec2Id()
    const launchedAt = Date.now() - 60_000
    // A replica running in the pool its primary now runs in (a promotion moved the primary there).
    const [spare] = await db()
      .insert(replicas)
      .values({
        id: `rep_${crypto.randomUUID().replaceAll('-', '')}`,
        clientId: a.client.id,
        agentId: a.agentId,
        replicaType: 'emergency',
        status: 'ready',
        instanceId: replicaInstance,
        poolId: `${type}.us-east-1a`,
        instanceType: type,
        region: 'us-east-1',
        az: 'us-east-1a',
        parentInstanceId: a.instanceId,
        launchedAt,
        createdAt: launchedAt,
        updatedAt: launchedAt,
      })
      .returning()
    // Two sweeps: EC2 still runs it, so D1 keeps it live; the client is told once.
    await maintainStandby(env, db(), await loadAgent(a.agentId), Date.now())
    await maintainStandby(env, db(), await loadAgent(a.agentId), Date.now())
    const [row] = await db().select().from(replicas).where(eq(replicas.id, spare!.id))
    expect(row).toMatchObject({
      status: 'ready',
      terminatedAt: null,
      errorMessage: expect.stringContaining(
        `cannot terminate an instance, so ${replicaInstance} runs on in EC2`,
      ),
    })
    expect(await commandsOf(a.agentId, 'terminate_replica')).toEqual([])
    const told = (await rowsOf(notifications, a.agentId)).filter((n) => n.kind === 'replica')
    expect(told).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringContaining(`${replicaInstance} no longer protects`),
      }),
    ])
    await syncSegments(db(), await loadAgent(a.agentId), Date.now())
    const segment = (
      await db().select().from(usageSegments).where(eq(usageSegments.agentId, a.agentId))
    ).find((s) => s.instanceId === replicaInstance)
    expect(segment).toMatchObject({ role: 'replica', endedAt: null })
    const page = await call('GET', `/c/${a.client.id}/replicas`, undefined, ADMIN)
    expect(page.text).toContain('Terminated in EC2')

    // Terminate from the dashboard: no path through the agent, so only the client's word ends it.
    const path = `/api/client/agents/${a.agentId}/replicas/${spare!.id}`
    const refused = await call('DELETE', path, undefined, ADMIN)
    expect(refused.status).toBe(409)
    expect(refused.json.error).toContain(`terminate ${replicaInstance} in EC2`)
    expect((await db().select().from(replicas).where(eq(replicas.id, spare!.id)))[0]?.status).toBe('ready')
    const confirmed = await call('DELETE', `${path}?terminated_in_ec2=1`, undefined, ADMIN)
    expect(confirmed.status).toBe(200)
    expect((await db().select().from(replicas).where(eq(replicas.id, spare!.id)))[0]).toMatchObject({
      status: 'terminated',
      errorMessage: `${replicaInstance} terminated in EC2 by the client`,
    })
  })
})

describe('an outstanding notice', () => {
  it('no longer promotes anything once the workload runs elsewhere', async () => {
    const { a } = await spotAgent()
    const { replicaId } = await noticeWithoutReplica(a)
    // The agent registers from another instance (its own emergency launch: it moved by other means)
    // before the replica runs.
    const elsewhere = ec2Id()
    const moved = await call(
      'POST',
      '/api/agents/register',
      {
        instance_id: elsewhere,
        instance_type: 't3.medium',
        region: 'us-east-1',
        az: 'us-east-1c',
        mode: 'ondemand',
        agent_version: '5.0.0',
        logical_agent_id: (await loadAgent(a.agentId)).logicalAgentId,
        replica_id: 'local-notice-1',
      },
      a.client.auth,
    )
    expect(moved.status).toBe(200)
    const put = await call('PUT', `${base(a)}/replicas/${replicaId}`, { instance_id: ec2Id() }, a.client.auth)
    expect(put.json.status).toBe('syncing')
    expect(await rowsOf(switches, a.agentId)).toEqual([])
    expect((await loadAgent(a.agentId)).instanceId).toBe(elsewhere)
  })
})

describe('a repeated notice', () => {
  it('re-evaluates while it is outstanding: a replica usable since then is promoted for it, once', async () => {
    const { a } = await spotAgent()
    const notice = noticeOf(a)
    expect((await call('POST', `${base(a)}/termination-imminent`, notice.body, a.client.auth)).status).toBe(
      409,
    )
    // A replica the agent launched itself, reported with its real id.
    const own = ec2Id()
    await db().update(agents).set({ manualReplicaEnabled: true }).where(eq(agents.id, a.agentId))
    const made = await call(
      'POST',
      `${base(a)}/replicas`,
      { instance_id: own, status: 'ready' },
      a.client.auth,
    )
    expect(made.status).toBe(201)
    const again = await call('POST', `${base(a)}/termination-imminent`, notice.body, a.client.auth)
    expect(again.status).toBe(200)
    expect(again.json).toMatchObject({ action: 'replica_promoted', new_instance_id: own })
    const third = await call('POST', `${base(a)}/termination-imminent`, notice.body, a.client.auth)
    expect(third.json).toMatchObject({ new_instance_id: own })
    expect(await rowsOf(switches, a.agentId)).toHaveLength(1)
    expect(await rowsOf(events, a.agentId)).toMatchObject([
      { action: 'replica_promoted', newInstanceId: own },
    ])
  })
})

describe('a repeated promotion', () => {
  it('queues its command again once the previous one ended, never two at a time', async () => {
    const { a } = await spotAgent()
    const own = ec2Id()
    await db().update(agents).set({ manualReplicaEnabled: true }).where(eq(agents.id, a.agentId))
    const made = await call(
      'POST',
      `${base(a)}/replicas`,
      { instance_id: own, status: 'ready' },
      a.client.auth,
    )
    const path = `${base(a)}/replicas/${made.json.replica_id}/promote`
    const first = await call('POST', path, {}, a.client.auth)
    const open = await call('POST', path, {}, a.client.auth)
    expect(open.json.command_id).toBe(first.json.command_id)
    await runCommand(a, first.json.command_id, own, false, 'PromoteFailed: throttled')
    await eventually(async () => (await rowsOf(switches, a.agentId))[0]?.errorMessage, {
      what: 'the failure marked',
      timeoutMs: 5_000,
      intervalMs: 20,
    })
    const retried = await call('POST', path, {}, a.client.auth)
    expect(retried.json.command_id).not.toBe(first.json.command_id)
    const all = await commandsOf(a.agentId, 'promote_replica')
    expect(all.map((c) => c.status)).toEqual(['failed', expect.stringMatching(/queued|delivered/)])
    expect(all[1]!.payload).toMatchObject({ old_instance_id: a.instanceId })
    expect(await rowsOf(switches, a.agentId)).toHaveLength(1)
    // The retry succeeds: the failure is no longer shown.
    await runCommand(a, retried.json.command_id, own, true, 'moved')
    await eventually(async () => (await rowsOf(switches, a.agentId))[0]?.errorMessage === null, {
      what: 'the failure cleared',
      timeoutMs: 5_000,
      intervalMs: 20,
    })
    expect((await rowsOf(replicas, a.agentId))[0]!.errorMessage).toBeNull()
  })
})

describe('a replacement refused for capacity', () => {
  it('is retried in another pool, then on-demand; when nothing launches the notice records why and a notification says so', async () => {
    const { a, type } = await spotAgent()
    const { replicaId, notice } = await noticeWithoutReplica(a)
    const fail = (id: string, pool: string) =>
      call(
        'POST',
        `${base(a)}/replicas/${id}/status`,
        {
          status: 'failed',
          error_message: `RunInstances: InsufficientInstanceCapacity: no capacity in ${pool}`,
        },
        a.client.auth,
      )
    await fail(replicaId, 'b')
    const second = (await rowsOf(replicas, a.agentId)).find((r) => r.status === 'launching')
    expect(second).toMatchObject({ mode: 'spot', poolId: `${type}.us-east-1c` })
    await fail(second!.id, 'c')
    const third = (await rowsOf(replicas, a.agentId)).find((r) => r.status === 'launching')
    expect(third).toMatchObject({ mode: 'ondemand', az: 'us-east-1a', hourlyCost: ON_DEMAND })
    expect(
      (await commandsOf(a.agentId, 'create_replica')).map((c) => [c.targetMode, c.targetPoolId]),
    ).toEqual([
      ['spot', `${type}.us-east-1b`],
      ['spot', `${type}.us-east-1c`],
      ['ondemand', `${type}.us-east-1a`],
    ])
    await fail(third!.id, 'a')

    expect((await rowsOf(replicas, a.agentId)).filter((r) => r.status !== 'failed')).toEqual([])
    const [event] = await rowsOf(events, a.agentId)
    expect(event).toMatchObject({ action: 'replacement_failed' })
    expect((event!.detail as { attempts: string[] }).attempts).toHaveLength(3)
    const said = (await rowsOf(notifications, a.agentId)).filter((n) => n.severity === 'error')
    expect(said).toMatchObject([
      { kind: 'interruption', message: expect.stringContaining('no replacement could be launched') },
    ])
    expect(await rowsOf(switches, a.agentId)).toEqual([])
    // AWS reclaims the interrupted instance at the notice's time whatever happened.
    expect(await instanceRow(a.instanceId)).toMatchObject({ status: 'terminating', terminatedAt: notice.at })
  })

  it('for a 4.0.0 agent stops after the spot pools (it has no on-demand replica)', async () => {
    const { a } = await spotAgent('4.0.0')
    const { replicaId } = await noticeWithoutReplica(a)
    const fail = (id: string) =>
      call(
        'POST',
        `${base(a)}/replicas/${id}/status`,
        { status: 'failed', error_message: 'InsufficientInstanceCapacity' },
        a.client.auth,
      )
    await fail(replicaId)
    const second = (await rowsOf(replicas, a.agentId)).find((r) => r.status === 'launching')!
    await fail(second.id)
    expect((await rowsOf(replicas, a.agentId)).map((r) => r.mode)).toEqual(['spot', 'spot'])
    expect((await rowsOf(events, a.agentId))[0]).toMatchObject({ action: 'replacement_failed' })
  })

  it('with no other spot pool to try, the first replacement is on-demand in its own zone (none for 4.0.0)', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const notice = noticeOf(a)
    expect((await call('POST', `${base(a)}/termination-imminent`, notice.body, a.client.auth)).status).toBe(
      409,
    )
    const ask = (agent: TestAgent) =>
      call(
        'POST',
        `${base(agent)}/create-emergency-replica`,
        {
          signal_type: 'termination-notice',
          instance_id: agent.instanceId,
          termination_time: notice.body.termination_time,
        },
        agent.client.auth,
      )
    const created = await ask(a)
    expect(created.status).toBe(201)
    expect((await rowsOf(replicas, a.agentId))[0]).toMatchObject({
      mode: 'ondemand',
      az: 'us-east-1a',
      poolId: `${type}.us-east-1a`,
    })
    expect((await commandsOf(a.agentId, 'create_replica'))[0]).toMatchObject({ targetMode: 'ondemand' })

    const legacy = await agentOn(freshType(), 'spot', '4.0.0')
    expect((await ask(legacy)).status).toBe(409)
  })

  it('planned on-demand but launched as spot, the replica and its switch say spot, as EC2 holds it', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const notice = noticeOf(a)
    expect((await call('POST', `${base(a)}/termination-imminent`, notice.body, a.client.auth)).status).toBe(
      409,
    )
    const created = await call(
      'POST',
      `${base(a)}/create-emergency-replica`,
      {
        signal_type: 'termination-notice',
        instance_id: a.instanceId,
        termination_time: notice.body.termination_time,
      },
      a.client.auth,
    )
    // The answer says what to launch (the 5.x agent launched spot when it did not).
    expect(created.json).toMatchObject({ mode: 'ondemand', pool: { id: `${type}.us-east-1a` } })
    const replicaInstance = ec2Id()
    const put = await call(
      'PUT',
      `${base(a)}/replicas/${created.json.replica_id}`,
      { instance_id: replicaInstance, status: 'syncing', mode: 'spot' },
      a.client.auth,
    )
    expect(put.json).toMatchObject({ status: 'promoted' })
    expect((await rowsOf(replicas, a.agentId))[0]).toMatchObject({
      mode: 'spot',
      instanceId: replicaInstance,
    })
    expect((await rowsOf(switches, a.agentId)).map((s) => [s.trigger, s.newMode, s.newPoolId])).toEqual([
      ['interruption', 'spot', `${type}.us-east-1a`],
    ])
    expect(await instanceRow(replicaInstance)).toMatchObject({ mode: 'spot', poolId: `${type}.us-east-1a` })
  })

  it('that nobody launched before the interrupted instance ended is recorded as failed, not left launching', async () => {
    const { a } = await spotAgent()
    const { notice } = await noticeWithoutReplica(a)
    await maintainStandby(env, db(), await loadAgent(a.agentId), notice.at + 6 * 60_000)
    const [replica] = await rowsOf(replicas, a.agentId)
    expect(replica).toMatchObject({
      status: 'failed',
      errorMessage: expect.stringContaining('never launched'),
    })
    expect((await rowsOf(events, a.agentId))[0]).toMatchObject({ action: 'replacement_failed' })
    expect((await rowsOf(notifications, a.agentId)).some((n) => n.severity === 'error')).toBe(true)
  })
  it("hands over a promote command whose old host died with its result: the claim lapses at the notice's time", async () => {
    const { a } = await spotAgent()
    // The notice's time (and the grace after it) is over by the time the old host claims the command.
    const { replicaId } = await noticeWithoutReplica(a, -NOTICE_GRACE_MS - 1_000)
    const replicaInstance = ec2Id()
    await call('PUT', `${base(a)}/replicas/${replicaId}`, { instance_id: replicaInstance }, a.client.auth)
    const [first] = await commandsOf(a.agentId, 'promote_replica')
    const ack = await call(
      'POST',
      `${base(a)}/commands/${first!.id}/ack`,
      { instance_id: a.instanceId },
      a.client.auth,
    )
    expect(ack.status).toBe(200)
    // No result ever comes: the alarm fails the lapsed claim.
    await runDurableObjectAlarm(sessionOf(env, a.agentId))

    const handed = await eventually(async () => (await commandsOf(a.agentId, 'promote_replica'))[1], {
      what: 'the command handed over',
      timeoutMs: 5_000,
      intervalMs: 20,
    })
    expect(handed).toMatchObject({ instanceId: replicaInstance, status: 'queued' })
    expect((await commandsOf(a.agentId, 'promote_replica'))[0]).toMatchObject({
      status: 'failed',
      message: 'no result before the lease ended',
    })
    expect((await rowsOf(switches, a.agentId))[0]!.commandId).toBe(handed.id)
  })

  it('hands over a promote command nobody claimed before it expired: the old host died first, the new agent came late', async () => {
    const { a } = await spotAgent()
    const { replicaId } = await noticeWithoutReplica(a)
    const replicaInstance = ec2Id()
    await call('PUT', `${base(a)}/replicas/${replicaId}`, { instance_id: replicaInstance }, a.client.auth)
    const [first] = await commandsOf(a.agentId, 'promote_replica')
    // Its 10 minutes pass unclaimed: the alarm expires it.
    const session = sessionOf(env, a.agentId)
    await runInDurableObject(session, (_i, state) => {
      state.storage.sql.exec('UPDATE commands SET expires_at = ? WHERE id = ?', Date.now() - 1, first!.id)
    })
    await runDurableObjectAlarm(session)

    const handed = await eventually(async () => (await commandsOf(a.agentId, 'promote_replica'))[1], {
      what: 'the command handed over',
      timeoutMs: 5_000,
      intervalMs: 20,
    })
    expect((await commandsOf(a.agentId, 'promote_replica'))[0]).toMatchObject({ status: 'expired' })
    expect(handed).toMatchObject({ instanceId: replicaInstance, status: 'queued' })
    expect((await rowsOf(switches, a.agentId))[0]).toMatchObject({
      commandId: handed.id,
      errorMessage: null,
    })
    expect((await rowsOf(notifications, a.agentId)).filter((n) => n.kind === 'switch_failed')).toEqual([])
  })
})
