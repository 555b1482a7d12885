/** Every body the installed Python agents send is accepted, and its facts are stored. */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import {
  agents,
  cleanupReports,
  events,
  instances,
  ondemandPrices,
  pools,
  priceQuotes,
  replicas,
  spotPrices,
  switches,
} from '../../../src/db/schema'
import { call, db, ms, newClient, type TestClient } from './helpers'
import { vector } from './vectors'

/** Registers the register-v4 vector's agent for a fresh client, token in the body as the agent sends it. */
async function registerV4(client: TestClient) {
  const body = { ...vector('registerV4'), client_token: client.token }
  const res = await call('POST', '/api/agents/register', body)
  expect(res.status).toBe(200)
  return res.json.agent_id as string
}

async function instanceRow(clientId: string, instanceId: string) {
  const [row] = await db()
    .select()
    .from(instances)
    .where(and(eq(instances.clientId, clientId), eq(instances.instanceId, instanceId)))
  return row
}

describe('register vectors', () => {
  it('register-v4: token in the body, public_ip null, the defaults of GET config', async () => {
    const client = await newClient()
    const res = await call('POST', '/api/agents/register', {
      ...vector('registerV4'),
      client_token: client.token,
    })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({
      agent_id: expect.any(String),
      client_id: client.id,
      config: {
        enabled: true,
        auto_switch_enabled: true,
        auto_terminate_enabled: true,
        terminate_wait_seconds: 300,
        manual_replica_enabled: false,
        replica_enabled: false,
        replica_count: 1,
        min_savings_percent: 8,
        risk_threshold: 0.5,
        max_switches_per_week: 10,
        max_switches_per_day: 3,
        min_pool_duration_hours: 2,
      },
    })
    const [agent] = await db().select().from(agents).where(eq(agents.id, res.json.agent_id))
    expect(agent).toMatchObject({
      clientId: client.id,
      logicalAgentId: 'prod-web-1',
      hostname: 'ip-10-0-1-5',
      agentVersion: '4.0.0',
      instanceId: 'i-0a1b2c3d4e5f60718',
    })
    expect(await instanceRow(client.id, 'i-0a1b2c3d4e5f60718')).toMatchObject({
      agentId: res.json.agent_id,
      instanceType: 't3.medium',
      region: 'us-east-1',
      az: 'us-east-1a',
      amiId: 'ami-0abcdef1234567890',
      mode: 'ondemand',
      poolId: null,
      privateIp: '10.0.1.5',
      publicIp: null,
      status: 'active',
    })
    const config = await call('GET', `/api/agents/${res.json.agent_id}/config`, undefined, {
      Authorization: `Bearer ${client.token}`,
    })
    expect(config.json).toEqual(res.json.config)
  })

  it('register-v3: header token, no mode (unknown), version 3.2.0', async () => {
    const client = await newClient()
    const body = { ...vector('registerV3'), client_token: 'ignored-when-the-header-is-there' }
    const res = await call('POST', '/api/agents/register', body, client.auth)
    expect(res.status).toBe(200)
    const [agent] = await db().select().from(agents).where(eq(agents.id, res.json.agent_id))
    expect(agent).toMatchObject({
      logicalAgentId: 'prod-web-2',
      agentVersion: '3.2.0',
      hostname: 'ip-10-0-1-6',
    })
    expect(await instanceRow(client.id, 'i-0a1b2c3d4e5f60719')).toMatchObject({
      mode: 'unknown',
      az: 'us-east-1b',
    })
  })

  it('accepts "unknown" facts from a failed IMDS read and keeps what was known', async () => {
    const client = await newClient()
    const agentId = await registerV4(client)
    const res = await call(
      'POST',
      '/api/agents/register',
      {
        ...vector('registerV4'),
        instance_type: 'unknown',
        az: 'unknown',
        ami_id: 'unknown',
        private_ip: 'unknown',
      },
      client.auth,
    )
    expect(res.status).toBe(200)
    expect(res.json.agent_id).toBe(agentId)
    expect(await instanceRow(client.id, 'i-0a1b2c3d4e5f60718')).toMatchObject({
      instanceType: 't3.medium',
      az: 'us-east-1a',
      amiId: 'ami-0abcdef1234567890',
      privateIp: '10.0.1.5',
    })
  })
})

/** The client's own latest quote of a series. */
const quoteOf = async (clientId: string, series: string) =>
  (
    await db()
      .select()
      .from(priceQuotes)
      .where(and(eq(priceQuotes.clientId, clientId), eq(priceQuotes.series, series)))
  )[0]

describe('pricing-report vectors', () => {
  it('pricing-report-v4: a change point per pool and the on-demand price, with the reporter', async () => {
    const client = await newClient()
    const agentId = await registerV4(client)
    const res = await call(
      'POST',
      `/api/agents/${agentId}/pricing-report`,
      vector('pricingReportV4'),
      client.auth,
    )
    expect(res.status).toBe(200)
    const rows = await db().select().from(spotPrices).where(eq(spotPrices.reportedByAgentId, agentId))
    expect(Object.fromEntries(rows.map((r) => [r.poolId, r.price]))).toEqual({
      't3.medium.us-east-1a': 0.0125,
      't3.medium.us-east-1b': 0.0131,
      't3.medium.us-east-1c': 0.0119,
    })
    expect(rows.every((r) => r.reportedByClientId === client.id)).toBe(true)
    const [c] = await db().select().from(pools).where(eq(pools.id, 't3.medium.us-east-1c'))
    expect(c).toMatchObject({ instanceType: 't3.medium', region: 'us-east-1', az: 'us-east-1c' })
    expect(await quoteOf(client.id, 't3.medium.us-east-1c')).toMatchObject({ price: 0.0119 })
    const od = await db()
      .select()
      .from(ondemandPrices)
      .where(eq(ondemandPrices.reportedByClientId, client.id))
    expect(od).toMatchObject([{ instanceType: 't3.medium', region: 'us-east-1', price: 0.0416 }])
  })

  it('pricing-report-v3 and -v4-ondemand are accepted; unchanged prices add no rows (step function)', async () => {
    const client = await newClient()
    const agentId = await registerV4(client)
    const first = await call(
      'POST',
      `/api/agents/${agentId}/pricing-report`,
      vector('pricingReportV3'),
      client.auth,
    )
    expect(first.status).toBe(200)
    const before = await db().select().from(spotPrices)
    const second = await call(
      'POST',
      `/api/agents/${agentId}/pricing-report`,
      vector('pricingReportV4Ondemand'),
      client.auth,
    )
    expect(second.status).toBe(200)
    expect(second.json).toMatchObject({ spot_rows: 0, ondemand_rows: 0 })
    expect(await db().select().from(spotPrices)).toHaveLength(before.length)
    expect(await quoteOf(client.id, 't3.medium.us-east-1b')).toMatchObject({ price: 0.0131 })
  })
})

describe('switch-report vectors', () => {
  it('switch-report-v4: prices, the 4.0.0 timing keys, downtime; the agent moves, the old instance ends', async () => {
    const client = await newClient()
    const agentId = await registerV4(client)
    const res = await call(
      'POST',
      `/api/agents/${agentId}/switch-report`,
      vector('switchReportV4'),
      client.auth,
    )
    expect(res.status).toBe(201)
    const [row] = await db().select().from(switches).where(eq(switches.id, res.json.switch_id))
    expect(row).toMatchObject({
      agentId,
      clientId: client.id,
      trigger: 'manual',
      oldInstanceId: 'i-0a1b2c3d4e5f60718',
      newInstanceId: 'i-0f9e8d7c6b5a40321',
      oldMode: 'ondemand',
      newMode: 'spot',
      newPoolId: 't3.medium.us-east-1b',
      onDemandPrice: 0.0416,
      oldPrice: 0.0416,
      newPrice: 0.0131,
      snapshotUsed: false,
      initiatedAt: ms('2025-11-23T10:30:00.000Z'),
      launchedAt: ms('2025-11-23T10:30:04.120Z'),
      readyAt: ms('2025-11-23T10:30:41.500Z'),
      trafficSwitchedAt: ms('2025-11-23T10:30:43.510Z'),
      oldTerminatedAt: ms('2025-11-23T10:36:05.000Z'),
      downtimeMs: 2010,
      durationMs: 43510,
    })
    const [agent] = await db().select().from(agents).where(eq(agents.id, agentId))
    expect(agent?.instanceId).toBe('i-0f9e8d7c6b5a40321')
    expect(await instanceRow(client.id, 'i-0a1b2c3d4e5f60718')).toMatchObject({ status: 'terminated' })
    expect(await instanceRow(client.id, 'i-0f9e8d7c6b5a40321')).toMatchObject({
      status: 'active',
      mode: 'spot',
      poolId: 't3.medium.us-east-1b',
      agentId,
    })
    const again = await call(
      'POST',
      `/api/agents/${agentId}/switch-report`,
      vector('switchReportV4'),
      client.auth,
    )
    expect(again.status).toBe(200)
    expect(again.json.switch_id).toBe(res.json.switch_id)
    expect(await db().select().from(switches).where(eq(switches.agentId, agentId))).toHaveLength(1)
  })

  it('switch-report-v3: microsecond Z times, no launch time, the old instance kept (not terminated)', async () => {
    const client = await newClient()
    const res0 = await call('POST', '/api/agents/register', vector('registerV3'), client.auth)
    const agentId = res0.json.agent_id
    const res = await call(
      'POST',
      `/api/agents/${agentId}/switch-report`,
      vector('switchReportV3'),
      client.auth,
    )
    expect(res.status).toBe(201)
    const [row] = await db().select().from(switches).where(eq(switches.id, res.json.switch_id))
    expect(row).toMatchObject({
      trigger: 'model',
      onDemandPrice: 0.0416,
      newPrice: 0.0125,
      snapshotUsed: true,
      initiatedAt: ms('2025-11-23T10:30:00.000Z'),
      launchedAt: null,
      readyAt: ms('2025-11-23T10:31:10.000Z'),
      oldTerminatedAt: null,
      downtimeMs: 2000,
      durationMs: 72000,
    })
    expect(await instanceRow(client.id, 'i-0a1b2c3d4e5f60719')).toMatchObject({ status: 'active' })
    expect(await instanceRow(client.id, 'i-0c1d2e3f4a5b60789')).toMatchObject({
      status: 'active',
      mode: 'spot',
    })
  })

  it('a repeated report with the termination time confirms the old instance ended, once', async () => {
    const client = await newClient()
    const res0 = await call('POST', '/api/agents/register', vector('registerV3'), client.auth)
    const agentId = res0.json.agent_id
    const report = { ...vector('switchReportV3'), command_id: `cmd-confirm-${agentId}` }
    const first = await call('POST', `/api/agents/${agentId}/switch-report`, report, client.auth)
    expect(await instanceRow(client.id, 'i-0a1b2c3d4e5f60719')).toMatchObject({ status: 'active' })
    const confirmed = {
      ...report,
      timing: { ...report.timing, old_instance_terminated_at: '2025-11-23T10:36:12.000001Z' },
    }
    const again = await call('POST', `/api/agents/${agentId}/switch-report`, confirmed, client.auth)
    expect(again.json.switch_id).toBe(first.json.switch_id)
    const [row] = await db().select().from(switches).where(eq(switches.id, first.json.switch_id))
    expect(row?.oldTerminatedAt).toBe(ms('2025-11-23T10:36:12.000Z'))
    const confirmedAt = row?.oldTerminationConfirmedAt
    expect(confirmedAt).toEqual(expect.any(Number))
    expect(await instanceRow(client.id, 'i-0a1b2c3d4e5f60719')).toMatchObject({ status: 'terminated' })
    await call('POST', `/api/agents/${agentId}/switch-report`, confirmed, client.auth)
    const [after] = await db().select().from(switches).where(eq(switches.id, first.json.switch_id))
    expect(after?.oldTerminationConfirmedAt).toBe(confirmedAt)
  })

  it('accepts `pricing` and the alternative timing keys', async () => {
    const client = await newClient()
    const agentId = await registerV4(client)
    const { prices, timing, ...rest } = vector('switchReportV4')
    const body = {
      ...rest,
      pricing: prices,
      initiated_at: timing.switch_initiated_at,
      ami_created_at: '2025-11-23T10:30:02+00:00',
      instance_launched_at: timing.new_instance_launched_at,
      instance_ready_at: timing.new_instance_ready_at,
      old_terminated_at: timing.old_instance_terminated_at,
    }
    const res = await call('POST', `/api/agents/${agentId}/switch-report`, body, client.auth)
    expect(res.status).toBe(201)
    const [row] = await db().select().from(switches).where(eq(switches.id, res.json.switch_id))
    expect(row).toMatchObject({
      newPrice: 0.0131,
      onDemandPrice: 0.0416,
      amiCreatedAt: ms('2025-11-23T10:30:02.000Z'),
      readyAt: ms('2025-11-23T10:30:41.500Z'),
      oldTerminatedAt: ms('2025-11-23T10:36:05.000Z'),
    })
  })
})

describe('interruption and replica vectors (the 4.0.0 sequence)', () => {
  /** An agent after switch-report-v4 (on spot in us-east-1b), with fresh prices of three pools. */
  async function agentOnSpot() {
    const client = await newClient()
    const agentId = await registerV4(client)
    await call('POST', `/api/agents/${agentId}/pricing-report`, vector('pricingReportV4'), client.auth)
    await call('POST', `/api/agents/${agentId}/switch-report`, vector('switchReportV4'), client.auth)
    return { client, agentId }
  }

  it('termination notice: emergency replica, launch report, ready, then failover to its real instance', async () => {
    const { client, agentId } = await agentOnSpot()
    const created = await call(
      'POST',
      `/api/agents/${agentId}/create-emergency-replica`,
      vector('emergencyTerminationV4'),
      client.auth,
    )
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({
      success: true,
      pool: { id: 't3.medium.us-east-1c', az: 'us-east-1c' },
      hourly_cost: 0.0119,
      urgency: 'critical',
    })
    expect(created.json.replica_instance_id).toBe(created.json.instance_id)
    const replicaId = created.json.replica_id
    const repeat = await call(
      'POST',
      `/api/agents/${agentId}/create-emergency-replica`,
      vector('emergencyTerminationV4'),
      client.auth,
    )
    expect(repeat.status).toBe(200)
    expect(repeat.json.replica_id).toBe(replicaId)

    const launching = await call(
      'GET',
      `/api/agents/${agentId}/replicas?status=launching`,
      undefined,
      client.auth,
    )
    expect(launching.json.replicas).toMatchObject([
      { id: replicaId, pool_id: 't3.medium.us-east-1c', az: 'us-east-1c' },
    ])

    const put = await call(
      'PUT',
      `/api/agents/${agentId}/replicas/${replicaId}`,
      vector('replicaPutInstanceV4'),
      client.auth,
    )
    expect(put.status).toBe(200)
    const syncing = await call(
      'POST',
      `/api/agents/${agentId}/replicas/${replicaId}/status`,
      vector('replicaStatusSyncingV4'),
      client.auth,
    )
    expect(syncing.status).toBe(200)
    const ready = await call(
      'POST',
      `/api/agents/${agentId}/replicas/${replicaId}/status`,
      vector('replicaStatusReadyV4'),
      client.auth,
    )
    expect(ready.status).toBe(200)
    const [row] = await db().select().from(replicas).where(eq(replicas.id, replicaId))
    expect(row).toMatchObject({
      instanceId: 'i-0aaaabbbbccccdddd',
      status: 'ready',
      syncStartedAt: ms('2025-11-23T11:41:00.000Z'),
      syncCompletedAt: ms('2025-11-23T11:42:10.000Z'),
    })
    expect(row?.launchedAt).not.toBeNull()
    expect(row?.readyAt).not.toBeNull()
    expect(
      (await call('GET', `/api/agents/${agentId}/replicas?status=launching`, undefined, client.auth)).json
        .total,
    ).toBe(0)

    const failover = await call(
      'POST',
      `/api/agents/${agentId}/termination-imminent`,
      vector('terminationImminentV4'),
      client.auth,
    )
    expect(failover.status).toBe(200)
    expect(failover.json).toMatchObject({
      success: true,
      new_instance_id: 'i-0aaaabbbbccccdddd',
      replica_id: replicaId,
      action: 'replica_promoted',
      failover_time_ms: expect.any(Number),
    })
    const [agent] = await db().select().from(agents).where(eq(agents.id, agentId))
    expect(agent?.instanceId).toBe('i-0aaaabbbbccccdddd')
    const [promoted] = await db().select().from(replicas).where(eq(replicas.id, replicaId))
    expect(promoted?.status).toBe('promoted')
    const notices = await db().select().from(events).where(eq(events.agentId, agentId))
    expect(notices).toMatchObject([
      {
        kind: 'termination_notice',
        poolId: 't3.medium.us-east-1b',
        instanceId: 'i-0f9e8d7c6b5a40321',
        terminationTime: ms('2025-11-23T12:02:00Z'),
        detectedAt: ms('2025-11-23T12:00:01.250Z'),
        replicaId,
        newInstanceId: 'i-0aaaabbbbccccdddd',
      },
    ])
    const retried = await call(
      'POST',
      `/api/agents/${agentId}/termination-imminent`,
      vector('terminationImminentV4'),
      client.auth,
    )
    expect(retried.json).toMatchObject({ new_instance_id: 'i-0aaaabbbbccccdddd', replica_id: replicaId })
    expect(await db().select().from(events).where(eq(events.agentId, agentId))).toHaveLength(1)
  })

  it('termination notice without a replica: 409 with the action, and the event recorded', async () => {
    const { client, agentId } = await agentOnSpot()
    const res = await call(
      'POST',
      `/api/agents/${agentId}/termination-imminent`,
      vector('terminationImminentV4'),
      client.auth,
    )
    expect(res.status).toBe(409)
    expect(res.json).toMatchObject({
      success: false,
      error: 'No replica available',
      action: 'emergency_snapshot_required',
    })
    expect(await db().select().from(events).where(eq(events.agentId, agentId))).toMatchObject([
      { kind: 'termination_notice', action: 'emergency_snapshot_required', poolId: 't3.medium.us-east-1b' },
    ])
  })

  it('rebalance: an emergency replica (reused for 30 minutes), then monitor and a risk event', async () => {
    const { client, agentId } = await agentOnSpot()
    const first = await call(
      'POST',
      `/api/agents/${agentId}/create-emergency-replica`,
      vector('emergencyRebalanceV4'),
      client.auth,
    )
    expect(first.status).toBe(201)
    expect(first.json).toMatchObject({ urgency: 'high', pool: { id: 't3.medium.us-east-1c' } })
    const second = await call(
      'POST',
      `/api/agents/${agentId}/create-emergency-replica`,
      vector('emergencyRebalanceV4'),
      client.auth,
    )
    expect(second.json.replica_id).toBe(first.json.replica_id)
    const res = await call(
      'POST',
      `/api/agents/${agentId}/rebalance-recommendation`,
      vector('rebalanceV4'),
      client.auth,
    )
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({
      success: true,
      action: 'monitor',
      risk_score: expect.any(Number),
      reason: expect.any(String),
    })
    expect(await db().select().from(events).where(eq(events.agentId, agentId))).toMatchObject([
      { kind: 'rebalance', poolId: 't3.medium.us-east-1b', detectedAt: ms('2025-11-23T11:40:00.500Z') },
    ])
  })

  it('manual replica with a real instance id: kept, syncing, never listed as launching', async () => {
    const { client, agentId } = await agentOnSpot()
    const refused = await call(
      'POST',
      `/api/agents/${agentId}/replicas`,
      vector('replicaCreateManualV4'),
      client.auth,
    )
    expect(refused.status).toBe(403)
    await db().update(agents).set({ manualReplicaEnabled: true }).where(eq(agents.id, agentId))
    const res = await call(
      'POST',
      `/api/agents/${agentId}/replicas`,
      vector('replicaCreateManualV4'),
      client.auth,
    )
    expect(res.status).toBe(201)
    expect(res.json).toMatchObject({
      success: true,
      instance_id: 'i-0bbbbccccddddeeee',
      status: 'syncing',
      pool: { id: 't3.medium.us-east-1c', az: 'us-east-1c' },
      hourly_cost: 0.0119,
    })
    const repeat = await call(
      'POST',
      `/api/agents/${agentId}/replicas`,
      vector('replicaCreateManualV4'),
      client.auth,
    )
    expect(repeat.status).toBe(200)
    expect(repeat.json.replica_id).toBe(res.json.replica_id)
    const launching = await call(
      'GET',
      `/api/agents/${agentId}/replicas?status=launching`,
      undefined,
      client.auth,
    )
    expect(launching.json).toEqual({ replicas: [], total: 0 })
    const all = await call('GET', `/api/agents/${agentId}/replicas`, undefined, client.auth)
    expect(all.json.replicas).toMatchObject([
      {
        id: res.json.replica_id,
        instance_id: 'i-0bbbbccccddddeeee',
        type: 'manual',
        status: 'syncing',
        parent_instance_id: 'i-0f9e8d7c6b5a40321',
        pool: {
          id: 't3.medium.us-east-1c',
          instance_type: 't3.medium',
          region: 'us-east-1',
          az: 'us-east-1c',
        },
        is_active: true,
      },
    ])
    expect((await call('GET', `/api/agents/${agentId}/replica-config`, undefined, client.auth)).json).toEqual(
      {
        enabled: true,
        count: 1,
      },
    )
  })

  it('replica-status-failed: stored with its error, ended, hidden unless include_terminated', async () => {
    const { client, agentId } = await agentOnSpot()
    const created = await call(
      'POST',
      `/api/agents/${agentId}/create-emergency-replica`,
      vector('emergencyRebalanceV4'),
      client.auth,
    )
    const replicaId = created.json.replica_id
    const res = await call(
      'POST',
      `/api/agents/${agentId}/replicas/${replicaId}/status`,
      vector('replicaStatusFailedV4'),
      client.auth,
    )
    expect(res.status).toBe(200)
    const [row] = await db().select().from(replicas).where(eq(replicas.id, replicaId))
    expect(row?.status).toBe('failed')
    expect(row?.errorMessage).toContain('InsufficientInstanceCapacity')
    expect((await call('GET', `/api/agents/${agentId}/replicas`, undefined, client.auth)).json.total).toBe(0)
    const withEnded = await call(
      'GET',
      `/api/agents/${agentId}/replicas?include_terminated=true`,
      undefined,
      client.auth,
    )
    expect(withEnded.json.replicas).toMatchObject([{ id: replicaId, status: 'failed', is_active: false }])
    const again = await call(
      'POST',
      `/api/agents/${agentId}/replicas/${replicaId}/status`,
      vector('replicaStatusFailedV4'),
      client.auth,
    )
    expect(again.json).toMatchObject({ success: true, changed: false })
  })
})

describe('cleanup-report vectors', () => {
  it('stores counts, failures and errors of both vectors', async () => {
    const client = await newClient()
    const agentId = await registerV4(client)
    const ok = await call(
      'POST',
      `/api/agents/${agentId}/cleanup-report`,
      vector('cleanupReportV4'),
      client.auth,
    )
    const failed = await call(
      'POST',
      `/api/agents/${agentId}/cleanup-report`,
      vector('cleanupReportV4Error'),
      client.auth,
    )
    expect([ok.status, failed.status]).toEqual([201, 201])
    const [a] = await db().select().from(cleanupReports).where(eq(cleanupReports.id, ok.json.report_id))
    expect(a).toMatchObject({
      agentId,
      snapshotsDeleted: 2,
      amisDeleted: 1,
      failures: 1,
      error: null,
      reportedAt: ms('2025-11-23T13:00:00.000Z'),
    })
    const [b] = await db().select().from(cleanupReports).where(eq(cleanupReports.id, failed.json.report_id))
    expect(b?.error).toContain("can't compare offset-naive and offset-aware datetimes")
    expect(b?.body).toEqual(vector('cleanupReportV4Error'))
  })
})
