/**
 * The notifications product.md lists that no flow wrote before: a switch that failed, a replica that
 * became ready, a savings milestone. Each is told once, where the event happens, and is in the
 * client's list (webhooks follow that list).
 */
import { env } from 'cloudflare:test'
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, instances, notifications, replicas, savingsDaily, switches } from '../../../src/db/schema'
import { CRON_HOURLY } from '../../../src/cron'
import { runScheduled } from '../../../src/scheduled'
import { eventually } from '../../support/eventually'
import { agentOn, freshType } from '../engine/market'
import { get, seedUser } from '../web/seed'
import { ADMIN, call, db, newAgent, newClient, runCommand } from './helpers'

const ec2Id = () => `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`

const notesOf = (clientId: string, kind: string) =>
  db()
    .select()
    .from(notifications)
    .where(and(eq(notifications.clientId, clientId), eq(notifications.kind, kind)))

/** The client's notifications as its owner's list shows them. */
async function listed(clientId: string) {
  const owner = await seedUser(clientId, 'owner')
  const res = await get('/api/notifications', owner.headers)
  expect(res.status).toBe(200)
  return (await res.json()) as { id: string; kind: string; message: string; severity: string }[]
}

/** An operator's force-switch of `a`'s instance to on-demand, queued: its command id. */
async function switchToOnDemand(a: { instanceId: string }): Promise<string> {
  const queued = await call(
    'POST',
    `/api/client/instances/${a.instanceId}/force-switch`,
    { target: 'ondemand' },
    ADMIN,
  )
  expect(queued.status).toBe(200)
  return queued.json.command_id as string
}

describe('switch_failed', () => {
  it('tells the client once when the agent reports its switch failed; the workload stays where it was', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const commandId = await switchToOnDemand(a)
    const reason = 'InsufficientInstanceCapacity: no on-demand capacity in us-east-1a'
    await runCommand(a, commandId, a.instanceId, false, reason)

    const [note, ...more] = await eventually(
      async () => {
        const rows = await notesOf(a.client.id, 'switch_failed')
        return rows.length > 0 ? rows : undefined
      },
      { what: 'a switch_failed notification', timeoutMs: 5_000, intervalMs: 20 },
    )
    expect(more).toEqual([])
    expect(note).toMatchObject({
      id: `ntf_switch_failed_${commandId}`,
      agentId: a.agentId,
      severity: 'error',
      message: expect.stringContaining(reason),
    })
    expect(note!.message).toContain('on-demand')
    expect((await listed(a.client.id)).filter((n) => n.kind === 'switch_failed')).toHaveLength(1)

    // The agent repeating its report adds nothing; EC2's workload is the old instance, no switch recorded.
    await call(
      'POST',
      `/api/agents/${a.agentId}/commands/${commandId}/executed`,
      { success: false, message: reason },
      a.client.auth,
    )
    expect(await notesOf(a.client.id, 'switch_failed')).toHaveLength(1)
    const [agent] = await db().select().from(agents).where(eq(agents.id, a.agentId))
    expect(agent!.instanceId).toBe(a.instanceId)
    const [row] = await db().select().from(instances).where(eq(instances.instanceId, a.instanceId))
    expect(row).toMatchObject({ mode: 'spot', status: 'active' })
    expect(await db().select().from(switches).where(eq(switches.agentId, a.agentId))).toEqual([])
  })

  it('is not told for a switch that completed', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const commandId = await switchToOnDemand(a)
    await runCommand(a, commandId, a.instanceId, true, 'switched')
    // The completion is followed in the object's background; the failure would be too, by then.
    await eventually(
      async () => {
        const [c] = await env.DB.prepare('select status from commands where id = ?')
          .bind(commandId)
          .all<{ status: string }>()
          .then((r) => r.results)
        return c?.status === 'completed' ? c : undefined
      },
      { what: 'the command completed in D1', timeoutMs: 5_000, intervalMs: 20 },
    )
    expect(await notesOf(a.client.id, 'switch_failed')).toEqual([])
  })
})

describe('replica_ready', () => {
  it('tells the client once, when the replica is reported ready (not while it syncs)', async () => {
    const a = await newAgent()
    const at = Date.now() - 60_000
    const [replica] = await db()
      .insert(replicas)
      .values({
        id: `rep_${crypto.randomUUID().replaceAll('-', '')}`,
        clientId: a.client.id,
        agentId: a.agentId,
        replicaType: 'manual',
        status: 'launching',
        poolId: 't3.medium.us-east-1b',
        instanceType: 't3.medium',
        region: 'us-east-1',
        az: 'us-east-1b',
        parentInstanceId: a.instanceId,
        createdAt: at,
        updatedAt: at,
      })
      .returning()
    const base = `/api/agents/${a.agentId}/replicas/${replica!.id}`
    const replicaInstance = ec2Id()
    expect((await call('PUT', base, { instance_id: replicaInstance }, a.client.auth)).json).toMatchObject({
      status: 'syncing',
    })
    expect(await notesOf(a.client.id, 'replica_ready')).toEqual([])

    for (let k = 0; k < 2; k++) {
      const ready = await call('POST', `${base}/status`, { status: 'ready' }, a.client.auth)
      expect(ready.status).toBe(200)
    }
    const notes = await notesOf(a.client.id, 'replica_ready')
    expect(notes).toMatchObject([
      {
        id: `ntf_replica_ready_${replica!.id}`,
        agentId: a.agentId,
        severity: 'success',
        message: expect.stringContaining(replicaInstance),
      },
    ])
    expect(notes[0]!.message).toContain('t3.medium.us-east-1b')
    expect((await listed(a.client.id)).filter((n) => n.kind === 'replica_ready')).toHaveLength(1)
  })
})

describe('savings_milestone', () => {
  async function saved(clientId: string, usd: number) {
    await db()
      .insert(savingsDaily)
      .values({
        agentId: `agt_${crypto.randomUUID().replaceAll('-', '')}`,
        clientId,
        day: '2026-01-15',
        baselineCost: usd * 2,
        primaryCost: usd,
        replicaCost: 0,
        overlapCost: 0,
        savings: usd,
        computedAt: Date.now(),
      })
  }

  it('tells each milestone of lifetime savings once, after the hourly rollup, the highest passed at once only', async () => {
    const client = await newClient()
    await saved(client.id, 7.5)
    await saved(client.id, 5)
    await runScheduled(CRON_HOURLY, env, Date.now())
    const first = await notesOf(client.id, 'savings_milestone')
    // $12.50 passed $1 and $10 at once: the client hears of $10.
    expect(first).toMatchObject([
      {
        id: `ntf_savings_10_${client.id}`,
        agentId: null,
        severity: 'success',
        message: expect.stringContaining('$10 '),
      },
    ])

    await runScheduled(CRON_HOURLY, env, Date.now())
    expect(await notesOf(client.id, 'savings_milestone')).toHaveLength(1)

    await saved(client.id, 1_000)
    await runScheduled(CRON_HOURLY, env, Date.now())
    const later = await notesOf(client.id, 'savings_milestone')
    expect(later.map((n) => n.id).sort()).toEqual([
      `ntf_savings_1000_${client.id}`,
      `ntf_savings_10_${client.id}`,
    ])
    expect(later.find((n) => n.id.startsWith('ntf_savings_1000'))!.message).toContain('$1,000')
    expect((await listed(client.id)).filter((n) => n.kind === 'savings_milestone')).toHaveLength(2)
  })

  it('tells nothing below $1 or for another client', async () => {
    const client = await newClient()
    const other = await newClient()
    await saved(client.id, 0.99)
    await saved(other.id, 3)
    await runScheduled(CRON_HOURLY, env, Date.now())
    expect(await notesOf(client.id, 'savings_milestone')).toEqual([])
    expect((await notesOf(other.id, 'savings_milestone')).map((n) => n.id)).toEqual([
      `ntf_savings_1_${other.id}`,
    ])
  })
})
