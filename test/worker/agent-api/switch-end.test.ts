/**
 * A switch's old instance terminated by its own agent: the control plane learns its end without
 * depending on a report from the dying host. The agent says it is terminating (D1 `terminating`), the
 * workload's new instance confirms the end through EC2 (`terminate_instance`), and that completion ends
 * the row, once.
 */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { commands, instances, notifications } from '../../../src/db/schema'
import { eventually } from '../../support/eventually'
import { agentOn, freshType } from '../engine/market'
import { call, db, type TestAgent } from './helpers'

const ec2Id = () => `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
const base = (a: TestAgent) => `/api/agents/${a.agentId}`

function switchReport(a: TestAgent, type: string, newInstanceId: string, timing: Record<string, string>) {
  const side = (instanceId: string, az: string) => ({
    instance_id: instanceId,
    instance_type: type,
    region: 'us-east-1',
    az,
    mode: 'spot',
    pool_id: `${type}.${az}`,
  })
  return {
    trigger: 'manual',
    old_instance: side(a.instanceId, 'us-east-1a'),
    new_instance: side(newInstanceId, 'us-east-1b'),
    snapshot: { used: true },
    timing: { switch_initiated_at: new Date().toISOString(), old_instance_terminated_at: null, ...timing },
  }
}

const instanceRow = async (instanceId: string) =>
  (await db().select().from(instances).where(eq(instances.instanceId, instanceId)))[0]

const confirmations = (agentId: string) =>
  db()
    .select()
    .from(commands)
    .where(and(eq(commands.agentId, agentId), eq(commands.commandType, 'terminate_instance')))

describe('the old instance of a switch its own agent terminates', () => {
  it('is terminating once its agent says so, and terminated when the new instance confirms it (the host died with its report)', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const fresh = ec2Id()
    const first = await call(
      'POST',
      `${base(a)}/switch-report`,
      switchReport(a, type, fresh, { traffic_switched_at: new Date().toISOString() }),
      a.client.auth,
    )
    expect(first.status).toBe(201)
    expect(await instanceRow(a.instanceId)).toMatchObject({ status: 'active', terminatedAt: null })

    // After the wait, before TerminateInstances: then the host dies, its confirmation with it.
    const terminating = await call(
      'POST',
      `${base(a)}/switch-report`,
      switchReport(a, type, fresh, { old_instance_terminating_at: new Date().toISOString() }),
      a.client.auth,
    )
    expect(terminating.status).toBe(200)
    expect(await instanceRow(a.instanceId)).toMatchObject({ status: 'terminating', terminatedAt: null })
    const [command, ...more] = await confirmations(a.agentId)
    expect(more).toEqual([])
    expect(command).toMatchObject({
      instanceId: fresh,
      status: 'queued',
      payload: { target_instance_id: a.instanceId },
    })

    // The old host cannot claim it; the new instance confirms the end through EC2.
    const fromOld = await call(
      'POST',
      `${base(a)}/commands/${command!.id}/ack`,
      { instance_id: a.instanceId },
      a.client.auth,
    )
    expect(fromOld.status).toBe(409)
    const ack = await call(
      'POST',
      `${base(a)}/commands/${command!.id}/ack`,
      { instance_id: fresh },
      a.client.auth,
    )
    expect(ack.status).toBe(200)
    const before = Date.now()
    const done = await call(
      'POST',
      `${base(a)}/commands/${command!.id}/executed`,
      { success: true, message: `${a.instanceId} already terminated` },
      a.client.auth,
    )
    expect(done.status).toBe(200)
    const ended = await eventually(
      async () => {
        const row = await instanceRow(a.instanceId)
        return row?.status === 'terminated' ? row : undefined
      },
      { what: 'the old instance terminated in D1', timeoutMs: 5_000, intervalMs: 20 },
    )
    expect(ended.terminatedAt).toBeGreaterThanOrEqual(before)
    expect(await instanceRow(fresh)).toMatchObject({ status: 'active' })
  })

  it('stays terminating and is notified when the confirmation fails (EC2 may still run it)', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const fresh = ec2Id()
    const report = (timing: Record<string, string>) =>
      call('POST', `${base(a)}/switch-report`, switchReport(a, type, fresh, timing), a.client.auth)
    expect((await report({})).status).toBe(201)
    await report({ old_instance_terminating_at: new Date().toISOString() })
    const [command] = await confirmations(a.agentId)
    await call('POST', `${base(a)}/commands/${command!.id}/ack`, { instance_id: fresh }, a.client.auth)
    await call(
      'POST',
      `${base(a)}/commands/${command!.id}/executed`,
      { success: false, message: 'UnauthorizedOperation' },
      a.client.auth,
    )
    const [notice] = await eventually(
      async () => {
        const rows = await db()
          .select()
          .from(notifications)
          .where(
            and(eq(notifications.agentId, a.agentId), eq(notifications.kind, 'instance_end_unconfirmed')),
          )
        return rows.length > 0 ? rows : undefined
      },
      { what: 'the notification', timeoutMs: 5_000, intervalMs: 20 },
    )
    expect(notice!.message).toContain(a.instanceId)
    expect(notice!.message).toContain('UnauthorizedOperation')
    expect(await instanceRow(a.instanceId)).toMatchObject({ status: 'terminating', terminatedAt: null })
  })

  it("ends at the old agent's own confirmation when it outlives the call; the new instance's confirmation changes nothing", async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    const fresh = ec2Id()
    const report = (timing: Record<string, string>) =>
      call('POST', `${base(a)}/switch-report`, switchReport(a, type, fresh, timing), a.client.auth)
    expect((await report({})).status).toBe(201)
    const saying = new Date().toISOString()
    await report({ old_instance_terminating_at: saying })
    await report({
      old_instance_terminating_at: saying,
      old_instance_terminated_at: new Date().toISOString(),
    })
    const ended = await instanceRow(a.instanceId)
    expect(ended).toMatchObject({ status: 'terminated', terminatedAt: expect.any(Number) })

    const [command] = await confirmations(a.agentId)
    await call('POST', `${base(a)}/commands/${command!.id}/ack`, { instance_id: fresh }, a.client.auth)
    await call(
      'POST',
      `${base(a)}/commands/${command!.id}/executed`,
      { success: true, message: 'already terminated' },
      a.client.auth,
    )
    await eventually(async () => (await confirmations(a.agentId))[0]?.status === 'completed', {
      what: 'the confirmation completed',
      timeoutMs: 5_000,
      intervalMs: 20,
    })
    expect(await instanceRow(a.instanceId)).toEqual(ended)
  })
})
