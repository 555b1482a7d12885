/**
 * An ended replica's instance is terminated by the instance that runs the workload: never left to an
 * agent that just stepped down (it refuses every new command), and a termination that terminated
 * nothing is handed over once, then notified.
 */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, commands, notifications, replicas, usageSegments } from '../../../src/db/schema'
import { syncSegments } from '../../../src/flows/ledger/segments'
import { eventually } from '../../support/eventually'
import { agentOn, freshType, loadAgent, reportPrices } from '../engine/market'
import { call, db, runCommand, type TestAgent } from './helpers'

const ec2Id = () => `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
const base = (a: TestAgent) => `/api/agents/${a.agentId}`

/** A ready spot replica of `a` in `pool`, on a fresh instance, created `ageMs` ago. */
async function readyReplica(a: TestAgent, type: string, zone: string, ageMs: number) {
  const at = Date.now() - ageMs
  const [row] = await db()
    .insert(replicas)
    .values({
      id: `rep_${crypto.randomUUID().replaceAll('-', '')}`,
      clientId: a.client.id,
      agentId: a.agentId,
      replicaType: 'emergency',
      status: 'ready',
      poolId: `${type}.${zone}`,
      instanceType: type,
      region: 'us-east-1',
      az: zone,
      instanceId: ec2Id(),
      parentInstanceId: a.instanceId,
      launchedAt: at,
      readyAt: at,
      createdAt: at,
      updatedAt: at,
    })
    .returning()
  return row!
}

const terminations = (agentId: string) =>
  db()
    .select()
    .from(commands)
    .where(and(eq(commands.agentId, agentId), eq(commands.commandType, 'terminate_replica')))
    .orderBy(commands.createdAt)

async function replicaSegment(agentId: string, instanceId: string) {
  const rows = await db().select().from(usageSegments).where(eq(usageSegments.agentId, agentId))
  return rows.find((s) => s.instanceId === instanceId && s.role === 'replica')
}

const wait = <T>(what: string, read: () => Promise<T | undefined>) =>
  eventually(read, { what, timeoutMs: 5_000, intervalMs: 20 })

describe('a replica made moot by a promotion', () => {
  it('is terminating, and billed, until the promoted instance terminates it (the old primary stepping down refuses it as retired)', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    await reportPrices(a, type, { a: 0.0125, b: 0.013, c: 0.03 }, 'spot')
    // Two replicas ready in pool b (two rebalances apart): the newer one is promoted, the older is moot.
    const older = await readyReplica(a, type, 'us-east-1b', 60 * 60_000)
    const newer = await readyReplica(a, type, 'us-east-1b', 30 * 60_000)
    const notice = {
      instance_id: a.instanceId,
      termination_time: new Date(Date.now() + 120_000).toISOString(),
      detected_at: new Date().toISOString(),
    }
    const answer = await call('POST', `${base(a)}/termination-imminent`, notice, a.client.auth)
    expect(answer.json).toMatchObject({ action: 'replica_promoted', new_instance_id: newer.instanceId })

    // EC2 runs the moot replica until the promoted instance terminates it: terminating, still billed.
    const [moot] = await db().select().from(replicas).where(eq(replicas.id, older.id))
    expect(moot).toMatchObject({
      status: 'terminating',
      terminatedAt: null,
      errorMessage: expect.stringContaining('moot'),
    })
    await syncSegments(db(), await loadAgent(a.agentId), Date.now())
    expect(await replicaSegment(a.agentId, older.instanceId!)).toMatchObject({ endedAt: null })
    const [command] = await wait('the termination queued', async () => {
      const rows = await terminations(a.agentId)
      return rows.length > 0 ? rows : undefined
    })
    expect(command).toMatchObject({
      instanceId: newer.instanceId,
      payload: { replica_id: older.id, replica_instance_id: older.instanceId },
    })
    const fromOldPrimary = await call(
      'POST',
      `${base(a)}/commands/${command!.id}/ack`,
      { instance_id: a.instanceId },
      a.client.auth,
    )
    expect(fromOldPrimary.status).toBe(409)

    // The promoted instance terminates it: the command's end ends the replica and its segment.
    await runCommand(a, command!.id, newer.instanceId!, true, `replica ${older.id} terminated`)
    const ended = await wait('the replica ended', async () => {
      const [row] = await db().select().from(replicas).where(eq(replicas.id, older.id))
      return row?.status === 'terminated' ? row : undefined
    })
    const [finished] = await db().select().from(commands).where(eq(commands.id, command!.id))
    expect(ended.terminatedAt).toBe(finished!.finishedAt)
    await syncSegments(db(), await loadAgent(a.agentId), Date.now())
    expect(await replicaSegment(a.agentId, older.instanceId!)).toMatchObject({ endedAt: ended.terminatedAt })
  })
})

describe('a replica termination that terminated nothing', () => {
  it('is handed once to the instance that runs the workload now; a second failure is notified with the instance to end', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const replica = await readyReplica(a, type, 'us-east-1b', 10 * 60_000)
    const ended = await call('DELETE', `${base(a)}/replicas/${replica.id}`, undefined, a.client.auth)
    expect(ended.json).toMatchObject({ status: 'terminating', command_id: expect.any(String) })
    // The workload moved (a switch) before the old primary ran it: it refuses as retired.
    const moved = ec2Id()
    await db().update(agents).set({ instanceId: moved }).where(eq(agents.id, a.agentId))
    await runCommand(
      a,
      ended.json.command_id,
      a.instanceId,
      false,
      `Refused: the agent retired on ${a.instanceId}`,
    )

    const [, handed] = await wait('the termination handed over', async () => {
      const rows = await terminations(a.agentId)
      return rows.length > 1 ? rows : undefined
    })
    expect(handed).toMatchObject({ instanceId: moved, payload: { replica_id: replica.id } })

    await runCommand(a, handed!.id, moved, false, 'TerminateFailed: UnauthorizedOperation')
    const [notified] = await wait('the failure notified', async () => {
      const rows = await db()
        .select()
        .from(notifications)
        .where(and(eq(notifications.agentId, a.agentId), eq(notifications.kind, 'replica_failed')))
      return rows.length > 0 ? rows : undefined
    })
    expect(notified).toMatchObject({
      severity: 'error',
      message: expect.stringContaining(replica.instanceId!),
    })
    expect(await terminations(a.agentId)).toHaveLength(2)
    // Nobody ended it: EC2 may still run (and bill) it.
    const [row] = await db().select().from(replicas).where(eq(replicas.id, replica.id))
    expect(row).toMatchObject({ status: 'terminating', terminatedAt: null })
  })
})
