/**
 * The end state every interruption path must reach, asserted through what a user sees (switch
 * history, instances, replicas, notifications, the ledger) and what the fake EC2 holds: the workload
 * on its replacement, one `interruption` switch with prices and downtime, the old instance ended in
 * D1 and in EC2, its segments closed and the new primary's open, and a notification that says it.
 */
import { expect } from 'vitest'
import type { SwitchRow } from './api'
import { queryD1, sql } from './d1'
import { eventually } from './eventually'
import type { E2eWorld } from './fleet-harness'

export interface InterruptionExpectation {
  logicalAgentId: string
  agentId: string
  oldInstanceId: string
  /** The interrupted instance's Elastic IP. */
  allocationId: string
  /** Whether the address can follow (installed 4.0.0 agents have no promote command). */
  addressFollows: boolean
  /** Whether a replica record was promoted (the agent's own launch without the control plane has none). */
  viaReplica: boolean
  /** The replacement's market (default spot); null: whichever the control plane chose. */
  newMode?: 'spot' | 'ondemand' | null
}

export interface InterruptionEnd {
  switched: SwitchRow
  newInstanceId: string
}

export async function expectInterruptionEnd(
  world: E2eWorld,
  want: InterruptionExpectation,
): Promise<InterruptionEnd> {
  const { api, client, fleet, worker } = world
  const ec2 = fleet.region.ec2
  const switches = async () =>
    (await api.switchHistory(client.id)).filter(
      (s) => s.agentId === want.agentId && s.oldInstanceId === want.oldInstanceId,
    )
  const switched = await eventually(
    async () => {
      const [row] = await switches()
      return row?.downtimeMs !== null && row?.downtimeMs !== undefined ? row : undefined
    },
    { what: `the interruption switch of ${want.oldInstanceId} with its downtime`, timeoutMs: 120_000 },
  ).catch(async (err: unknown) => {
    throw new Error(`${String(err)}\n${await agentRows(world, want.agentId)}`)
  })
  expect(await switches()).toHaveLength(1)
  const newInstanceId = switched.newInstanceId!
  expect(switched).toMatchObject({ trigger: 'interruption', errorMessage: null })
  if (want.newMode !== null) expect(switched.toMode).toBe(want.newMode ?? 'spot')
  expect(switched.price).toBeTypeOf('number')
  expect(switched.onDemandPrice).toBeTypeOf('number')
  expect(switched.savingsImpact).toBeTypeOf('number')
  expect(switched.downtimeMs).toBeGreaterThanOrEqual(0)
  // The CSV export says the same: trigger, new price and its effect.
  const csv = await (await worker.admin(`/api/client/${client.id}/export/switches.csv`)).text()
  const line = csv.split('\r\n').find((l) => l.includes(`,${want.oldInstanceId},${newInstanceId},`))
  expect(line?.split(',').slice(8, 11)).toEqual([
    'interruption',
    String(switched.price),
    String(switched.savingsImpact),
  ])

  // EC2: the old instance reclaimed, the replacement running, the address where it can be.
  await eventually(() => ec2.instance(want.oldInstanceId)?.state === 'terminated', {
    what: 'EC2 reclaimed the old instance',
    timeoutMs: 120_000,
  })
  expect(ec2.instance(newInstanceId)).toMatchObject({ state: 'running' })
  // The switch says the market EC2 holds the replacement in.
  expect(switched.toMode).toBe(ec2.instance(newInstanceId)!.lifecycle === 'spot' ? 'spot' : 'ondemand')
  const holder = ec2.state.addresses.get(want.allocationId)?.instanceId
  if (want.addressFollows) expect(holder).toBe(newInstanceId)
  else expect(holder).not.toBe(want.oldInstanceId)

  // D1 and the API: the agent on the replacement, the old instance ended at the notice's time.
  await eventually(
    async () => (await api.agent(client.id, want.logicalAgentId))?.instanceId === newInstanceId,
    { what: 'the agent on its replacement' },
  )
  // Terminating until the notice's time, terminated from then on (the 5-minute cron writes it).
  const listed = await api.instances(client.id)
  expect(listed.find((i) => i.instanceId === want.oldInstanceId)).toMatchObject({
    isActive: false,
    status: 'terminated',
  })
  await worker.scheduled('*/5 * * * *')
  const [old] = await queryD1<{ status: string; terminated_at: number }>(
    worker.persistDir,
    `select status, terminated_at from instances where instance_id = '${sql(want.oldInstanceId)}'`,
  )
  expect(old?.status).toBe('terminated')
  expect(listed.find((i) => i.instanceId === newInstanceId)).toMatchObject({
    isActive: true,
    logicalAgentId: want.logicalAgentId,
  })

  const replicas = (await api.replicas(client.id, true)).filter((r) => r.agentId === want.agentId)
  const live = replicas.filter((r) => ['launching', 'syncing', 'ready'].includes(r.replica.status))
  expect(live.filter((r) => r.replica.instanceId === newInstanceId)).toEqual([])
  if (want.viaReplica) {
    expect(replicas.find((r) => r.replica.instanceId === newInstanceId)?.replica).toMatchObject({
      status: 'promoted',
      mode: switched.toMode,
      errorMessage: null,
    })
  }

  // The ledger, after the cron that catches up on segments: the old one's closed, the new primary open.
  await eventually(
    async () => {
      await worker.scheduled('*/5 * * * *')
      const rows = await queryD1<{ instance_id: string; role: string; ended_at: number | null }>(
        worker.persistDir,
        `select instance_id, role, ended_at from usage_segments where agent_id = '${sql(want.agentId)}'`,
      )
      const oldOpen = rows.filter((r) => r.instance_id === want.oldInstanceId && r.ended_at === null)
      const newPrimary = rows.filter(
        (r) => r.instance_id === newInstanceId && r.role === 'primary' && r.ended_at === null,
      )
      const replicaOpen = rows.filter(
        (r) => r.instance_id === newInstanceId && r.role === 'replica' && r.ended_at === null,
      )
      return oldOpen.length === 0 && newPrimary.length === 1 && replicaOpen.length === 0
    },
    { what: 'ledger: the old segments closed, the new primary open', intervalMs: 1_000, timeoutMs: 60_000 },
  )

  const said = await api.notifications(client.id)
  expect(
    said.filter(
      (n) => n.kind === 'interruption' && n.agentId === want.agentId && n.message.includes(newInstanceId),
    ),
  ).toHaveLength(1)
  return { switched, newInstanceId }
}

/** What D1 holds of the agent's interruption (replicas, commands, events, switches): a timeout says it. */
async function agentRows(world: E2eWorld, agentId: string): Promise<string> {
  const lines: string[] = []
  for (const table of ['replicas', 'commands', 'events', 'switches']) {
    const rows = await queryD1(
      world.worker.persistDir,
      `select * from ${table} where agent_id = '${sql(agentId)}'`,
    ).catch((e: unknown) => [{ error: String(e) }])
    for (const row of rows) lines.push(`${table}: ${JSON.stringify(row).slice(0, 600)}`)
  }
  return lines.join('\n')
}
