/**
 * A leaked client token no longer reaches a verified agent's routes (403: its agent token is required).
 * Whoever holds the agent's own token (stolen from the instance, or a control plane not to be trusted)
 * can still record any instance id as a replica and ask for it to be ended or promoted; the control
 * plane queues the command, and the 5.x agent (a real process, on the fake EC2) refuses it because the
 * instance is not tagged as its replica. The end state: EC2 unchanged, the command failed with the
 * agent's reason, and the control plane's records undone.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildBundle } from '../agent/support/process'
import { startScenario, type Scenario } from '../agent/support/scenario'
import { eventually } from '../support/eventually'
import { startTestWorker, type TestWorker } from '../support/worker'

let worker: TestWorker
let scenario: Scenario | null = null

beforeAll(async () => {
  await buildBundle()
  worker = await startTestWorker()
})
afterEach(async () => {
  await scenario?.close()
  scenario = null
})
afterAll(() => worker?.stop())

const q = (s: string) => `'${s.replaceAll("'", "''")}'`

/** The agent token the agent keeps in its state file (what a thief on the instance would take). */
function agentTokenOf(s: Scenario): string {
  return JSON.parse(readFileSync(join(s.sim.stateDir, 'state.json'), 'utf8')).agentToken
}

/**
 * A call to the agent API as a token holder who is not the agent: with the agent's own token, or with
 * the client token (`leaked: 'client'`).
 */
async function asTokenHolder(
  s: Scenario,
  method: string,
  suffix: string,
  body?: unknown,
  leaked: 'agent' | 'client' = 'agent',
) {
  const token = leaked === 'agent' ? agentTokenOf(s) : s.client.token
  const res = await fetch(`${worker.url}/api/agents/${s.agentId}${suffix}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, json: (await res.json().catch(() => null)) as Record<string, any> | null }
}

/** The customer's database server in the same account: not SpotGuard's, with its own Elastic IP. */
function proddb(s: Scenario) {
  const w = s.sim.workload
  const db = s.sim.ec2.seed.addInstance({
    imageId: w.launchImageId,
    instanceType: 'r6i.large',
    subnetId: w.subnets['us-east-1a']!,
    securityGroupIds: [w.securityGroupId],
    tags: { Name: 'proddb' },
    lifecycle: 'on-demand',
  })
  return { instanceId: db.instanceId, ...s.sim.ec2.seed.addAddress({ instanceId: db.instanceId }) }
}

/**
 * The foreign instance recorded as a ready replica of the agent: `emergency`, which needs no setting
 * (manual replicas are off by default), only a priced pool (the agent's first pricing report).
 */
async function recordAsReplica(s: Scenario, instanceId: string): Promise<string> {
  await eventually(
    () =>
      s
        .sql(`select pool_id from spot_prices where pool_id = 't3.medium.us-east-1b'`)
        .then((rows) => rows.length > 0),
    { what: 'a priced pool from the pricing report' },
  )
  const created = await asTokenHolder(s, 'POST', '/replicas', {
    instance_id: instanceId,
    replica_type: 'emergency',
    pool_id: 't3.medium.us-east-1b',
    status: 'ready',
  })
  expect(created, JSON.stringify(created.json)).toMatchObject({ status: 201 })
  return String(created.json!.replica_id)
}

/** The command of `type` once the agent finished it. */
function finished(s: Scenario, type: string) {
  return eventually(
    () =>
      s
        .sql<{ status: string; message: string | null }>(
          `select status, message from commands where agent_id = ${q(s.agentId)} and command_type = ${q(type)} and status in ('completed', 'failed')`,
        )
        .then((rows) => rows[0] ?? false),
    { what: `the agent's answer to ${type}` },
  )
}

/** The instances the ledger counts for the agent now (open usage segments). */
async function openSegments(s: Scenario): Promise<string[]> {
  const rows = await s.sql<{ instance_id: string }>(
    `select instance_id from usage_segments where agent_id = ${q(s.agentId)} and ended_at is null`,
  )
  return rows.map((r) => r.instance_id)
}

describe('a leaked token cannot move the agent against instances it does not own', () => {
  it("a leaked client token cannot even record a foreign instance as a verified agent's replica: 403, nothing recorded", async () => {
    scenario = await startScenario(worker)
    const s = scenario
    const db = proddb(s)
    const created = await asTokenHolder(
      s,
      'POST',
      '/replicas',
      {
        instance_id: db.instanceId,
        replica_type: 'emergency',
        pool_id: 't3.medium.us-east-1b',
        status: 'ready',
      },
      'client',
    )
    expect(created).toMatchObject({ status: 403, json: { action: 'agent_token_required' } })
    expect(await s.sql(`select id from replicas where instance_id = ${q(db.instanceId)}`)).toEqual([])
  })

  it('a foreign instance recorded as a replica and then deleted is not terminated: the command fails, refused', async () => {
    scenario = await startScenario(worker)
    const s = scenario
    const db = proddb(s)
    const replicaId = await recordAsReplica(s, db.instanceId)

    const ended = await asTokenHolder(s, 'DELETE', `/replicas/${replicaId}`)
    expect(ended.status).toBe(200)

    const command = await finished(s, 'terminate_replica')
    expect(command).toMatchObject({
      status: 'failed',
      message: `Refused: ${db.instanceId} is not tagged as this agent's replica ${replicaId} (ManagedBy missing)`,
    })
    expect(s.sim.ec2.count('TerminateInstances')).toBe(0)
    expect(s.sim.ec2.instance(db.instanceId)!.state).toBe('running')

    // The control plane no longer counts proddb as a live replica of the workload.
    const [replica] = await eventually(
      () =>
        s
          .sql<{ status: string; error_message: string | null }>(
            `select status, error_message from replicas where id = ${q(replicaId)}`,
          )
          .then((rows) => (rows[0]?.status === 'failed' ? rows : false)),
      { what: 'the refused replica ended' },
    )
    expect(replica!.error_message).toContain("refused: not tagged as this agent's replica")
    const listed = await asTokenHolder(s, 'GET', '/replicas')
    expect(JSON.stringify(listed.json)).not.toContain(db.instanceId)
    expect(await openSegments(s)).not.toContain(db.instanceId)
  })

  it('a foreign instance recorded as a replica and then promoted gets no Elastic IP: the command fails, refused', async () => {
    scenario = await startScenario(worker)
    const s = scenario
    const w = s.sim.workload
    const db = proddb(s)
    const replicaId = await recordAsReplica(s, db.instanceId)

    const promoted = await asTokenHolder(s, 'POST', `/replicas/${replicaId}/promote`, {})
    expect(promoted.status).toBe(200)

    const command = await finished(s, 'promote_replica')
    expect(command).toMatchObject({
      status: 'failed',
      message: `Refused: ${db.instanceId} is not tagged as this agent's replica ${replicaId} (ManagedBy missing)`,
    })
    expect(s.sim.ec2.count('AssociateAddress')).toBe(0)
    expect(s.sim.ec2.state.addresses.get(w.allocationId)!.instanceId).toBe(w.instanceId)
    expect(s.sim.ec2.state.addresses.get(db.allocationId)!.instanceId).toBe(db.instanceId)
    expect(s.sim.ec2.count('TerminateInstances')).toBe(0)

    // The promotion is undone: the workload's primary is the original instance again.
    await eventually(
      () =>
        s
          .sql<{ undone_at: number | null }>(
            `select undone_at from switches where agent_id = ${q(s.agentId)}`,
          )
          .then((rows) => rows.length === 1 && rows[0]!.undone_at !== null),
      { what: 'the refused promotion undone' },
    )
    const [agent] = await s.sql<{ instance_id: string }>(
      `select instance_id from agents where id = ${q(s.agentId)}`,
    )
    expect(agent!.instance_id).toBe(w.instanceId)
    const [replica] = await s.sql<{ status: string }>(
      `select status from replicas where id = ${q(replicaId)}`,
    )
    expect(replica!.status).toBe('failed')
    // As the operator's dashboard reads it: no successful switch onto proddb, proddb in no instance list.
    const history = (await (await worker.admin(`/api/client/${s.client.id}/switch-history`)).json()) as any[]
    expect(history).toMatchObject([
      { newInstanceId: db.instanceId, undoneAt: expect.any(Number), savingsImpact: null },
    ])
    const listed = await (await worker.admin(`/api/client/${s.client.id}/instances`)).text()
    expect(listed).toContain(w.instanceId)
    expect(listed).not.toContain(db.instanceId)
    expect(await openSegments(s)).toEqual([w.instanceId])
  })
})
