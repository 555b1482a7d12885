/**
 * A stateful agent's drain on an interruption notice, reported once it ended (POST interruption-drain):
 * kept in the notice's event with the target groups it left, and shown with the interruption's switch.
 * The emergency replacement is told to join those groups (register_targets) once both the drain and the
 * switch to it are recorded, whichever came first.
 */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { commands, events, switches } from '../../../src/db/schema'
import { agentOn, freshType, reportPrices } from '../engine/market'
import { db, post, seedAgent, type SeededAgent } from '../session/seed'
import { get, seedUser } from '../web/seed'
import { call } from './helpers'

const ec2Id = () => `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
const T0 = Date.parse('2026-03-02T10:00:00.000Z')
const at = (s: number) => new Date(T0 + s * 1000).toISOString()
const ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef'

const side = (instanceId: string, az: string) => ({
  instance_id: instanceId,
  instance_type: 't3.medium',
  region: 'us-east-1',
  az,
  mode: 'spot',
  pool_id: `t3.medium.${az}`,
})

describe('an interruption a stateful agent drained for', () => {
  it("keeps the drain's steps and groups in the notice and shows them with the replacement's switch", async () => {
    const agent = await seedAgent('5.0.0')
    const owner = await seedUser(agent.clientId, 'owner')
    const notice = { instance_id: agent.instanceId, termination_time: at(120), detected_at: at(0) }
    // No replica: the agent launches its own replacement and reports that switch.
    expect((await post(agent, '/termination-imminent', notice)).status).toBe(409)
    const replacement = ec2Id()
    const reported = await post(agent, '/switch-report', {
      trigger: 'interruption',
      old_instance: side(agent.instanceId, 'us-east-1a'),
      new_instance: side(replacement, 'us-east-1b'),
      timing: { switch_initiated_at: at(1), new_instance_ready_at: at(60) },
    })
    expect(reported.status).toBe(201)
    const { switch_id } = (await reported.json()) as { switch_id: string }

    const drain = {
      instance_id: agent.instanceId,
      termination_time: at(120),
      steps: [
        {
          name: 'deregister_targets',
          started_at: at(0),
          ms: 50_000,
          ok: true,
          detail: 'deregistered from 1 target group(s)',
        },
        {
          name: 'stop_unit',
          started_at: at(50),
          ms: 2_000,
          ok: true,
          detail: 'systemctl stop app.service: exit 0',
        },
      ],
      target_groups: [{ target_group_arn: ARN, port: 8080 }],
      registered_instance_id: null,
    }
    const bad = await post(agent, '/interruption-drain', {
      ...drain,
      target_groups: [{ target_group_arn: ARN }],
    })
    expect(bad.status).toBe(400)
    const res = await post(agent, '/interruption-drain', drain)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ success: true, notice: true, switch_id })
    // A repeat (the report queue delivers at least once) adds nothing.
    expect((await post(agent, '/interruption-drain', drain)).status).toBe(200)

    const [event] = await db().select().from(events).where(eq(events.agentId, agent.agentId))
    expect(event!.detail).toMatchObject({
      drainSteps: [
        { name: 'deregister_targets', startedAt: T0, ms: 50_000, ok: true },
        { name: 'stop_unit', startedAt: T0 + 50_000, ms: 2_000, ok: true },
      ],
      drainTargetGroups: [{ targetGroupArn: ARN, port: 8080 }],
      drainRegisteredInstanceId: null,
    })
    const [sw] = await db().select().from(switches).where(eq(switches.id, switch_id))
    expect(sw!.statefulDetail!.steps.map((s) => s.name)).toEqual(['deregister_targets', 'stop_unit'])

    const page = await (await get(`/c/${agent.clientId}/switches/${switch_id}`, owner.headers)).text()
    const steps = page.slice(page.indexOf('id="switch-steps"'))
    expect(steps).toContain('data-step="deregister_targets"')
    expect(steps).toContain('50.0 s')
    expect(steps).toContain('systemctl stop app.service: exit 0')

    // The replacement's agent took the data volume back and reports the switch again with its record:
    // learnt although the drain's steps came first, which stay in front.
    const again = await post(agent, '/switch-report', {
      trigger: 'interruption',
      old_instance: side(agent.instanceId, 'us-east-1a'),
      new_instance: side(replacement, 'us-east-1b'),
      timing: { switch_initiated_at: at(1), new_instance_ready_at: at(60) },
      stateful: {
        steps: [{ name: 'attach_volumes', started_at: at(125), ms: 3_000, ok: true }],
        downtime_ms: 70_000,
        data_loss_bound_seconds: 0,
        address: null,
        volumes: [
          {
            device: '/dev/sdf',
            old_volume_id: 'vol-0123456789abcdef0',
            new_volume_id: 'vol-0123456789abcdef0',
            how: 'reattached',
          },
        ],
      },
    })
    expect(again.status).toBeLessThan(300)
    const [learnt] = await db().select().from(switches).where(eq(switches.id, switch_id))
    expect([learnt!.dataLossBoundSeconds, learnt!.statefulDetail!.volumes.length]).toEqual([0, 1])
    expect(learnt!.statefulDetail!.steps.map((s) => s.name)).toEqual([
      'deregister_targets',
      'stop_unit',
      'attach_volumes',
    ])
  })
})

const registerCommands = (agentId: string) =>
  db()
    .select()
    .from(commands)
    .where(and(eq(commands.agentId, agentId), eq(commands.commandType, 'register_targets')))

const drainReport = (agent: SeededAgent | { instanceId: string }, registered: string | null = null) => ({
  instance_id: agent.instanceId,
  termination_time: at(120),
  steps: [
    { name: 'deregister_targets', started_at: at(0), ms: 5_000, ok: true, detail: 'deregistered' },
    { name: 'detach_volumes', started_at: at(5), ms: 2_000, ok: true, detail: 'released' },
  ],
  target_groups: [{ target_group_arn: ARN, port: 5432 }],
  registered_instance_id: registered,
})

/** The switch to `replacement` as the interrupted agent reports its own launch (control plane unreachable). */
const ownLaunch = (agent: SeededAgent, replacement: string) =>
  post(agent, '/switch-report', {
    trigger: 'interruption',
    old_instance: side(agent.instanceId, 'us-east-1a'),
    new_instance: side(replacement, 'us-east-1a'),
    timing: { switch_initiated_at: at(1), new_instance_ready_at: at(60) },
  })

/** What the replacement's agent reports once it ran register_targets. */
const registration = (agent: SeededAgent, replacement: string) => ({
  instance_id: agent.instanceId,
  termination_time: at(120),
  steps: [
    {
      name: 'register_targets',
      started_at: at(140),
      ms: 300,
      ok: true,
      detail: `${replacement} registered in 1 target group(s)`,
    },
  ],
  target_groups: [{ target_group_arn: ARN, port: 5432 }],
  registered_instance_id: replacement,
})

describe("an emergency replacement and the interrupted instance's target groups", () => {
  it('is told register_targets when the drain lands after its switch, and its registration joins the switch after the drain', async () => {
    const agent = await seedAgent('5.0.0')
    const notice = { instance_id: agent.instanceId, termination_time: at(120), detected_at: at(0) }
    expect((await post(agent, '/termination-imminent', notice)).status).toBe(409)
    const replacement = ec2Id()
    const reported = await ownLaunch(agent, replacement)
    const { switch_id } = (await reported.json()) as { switch_id: string }
    // No groups known yet: nothing to tell.
    expect(await registerCommands(agent.agentId)).toEqual([])

    expect((await post(agent, '/interruption-drain', drainReport(agent))).status).toBe(200)
    const [told, ...more] = await registerCommands(agent.agentId)
    expect(more).toEqual([])
    expect(told).toMatchObject({
      instanceId: replacement,
      priority: 100,
      payload: {
        old_instance_id: agent.instanceId,
        termination_time: at(120),
        target_groups: [{ target_group_arn: ARN, port: 5432 }],
      },
    })

    expect((await post(agent, '/interruption-drain', registration(agent, replacement))).status).toBe(200)
    const [sw] = await db().select().from(switches).where(eq(switches.id, switch_id))
    expect(sw!.statefulDetail!.steps.map((s) => [s.name, s.ok])).toEqual([
      ['deregister_targets', true],
      ['detach_volumes', true],
      ['register_targets', true],
    ])
    const [event] = await db().select().from(events).where(eq(events.agentId, agent.agentId))
    expect(event!.detail).toMatchObject({
      drainTargetGroups: [{ targetGroupArn: ARN, port: 5432 }],
      drainRegisteredInstanceId: replacement,
    })
    expect((event!.detail as { drainSteps: { name: string }[] }).drainSteps.map((s) => s.name)).toEqual([
      'deregister_targets',
      'detach_volumes',
      'register_targets',
    ])
    expect(await registerCommands(agent.agentId)).toHaveLength(1)
  })

  it('is told register_targets when its switch lands after the drain, and the switch gets the drain steps with its registration', async () => {
    const agent = await seedAgent('5.0.0')
    const notice = { instance_id: agent.instanceId, termination_time: at(120), detected_at: at(0) }
    expect((await post(agent, '/termination-imminent', notice)).status).toBe(409)
    const early = await post(agent, '/interruption-drain', drainReport(agent))
    expect(await early.json()).toEqual({ success: true, notice: true, switch_id: null })
    expect(await registerCommands(agent.agentId)).toEqual([])

    const replacement = ec2Id()
    const { switch_id } = (await (await ownLaunch(agent, replacement)).json()) as { switch_id: string }
    const [told] = await registerCommands(agent.agentId)
    expect(told).toMatchObject({ instanceId: replacement, payload: { old_instance_id: agent.instanceId } })

    expect((await post(agent, '/interruption-drain', registration(agent, replacement))).status).toBe(200)
    const [sw] = await db().select().from(switches).where(eq(switches.id, switch_id))
    expect(sw!.statefulDetail!.steps.map((s) => s.name)).toEqual([
      'deregister_targets',
      'detach_volumes',
      'register_targets',
    ])
  })

  it('is told register_targets when the replica launched for the notice is promoted after the drain', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    await reportPrices(a, type, { a: 0.0125, b: 0.013, c: 0.03 }, 'spot')
    const base = `/api/agents/${a.agentId}`
    const terminationTime = new Date(Date.now() + 120_000).toISOString()
    const notice = { instance_id: a.instanceId, termination_time: terminationTime, detected_at: at(0) }
    expect((await call('POST', `${base}/termination-imminent`, notice, a.client.auth)).status).toBe(409)
    const created = await call(
      'POST',
      `${base}/create-emergency-replica`,
      { signal_type: 'termination-notice', instance_id: a.instanceId, termination_time: terminationTime },
      a.client.auth,
    )
    expect(created.status).toBe(201)
    const drained = await call(
      'POST',
      `${base}/interruption-drain`,
      { ...drainReport(a), termination_time: terminationTime },
      a.client.auth,
    )
    expect(drained.json).toMatchObject({ notice: true, switch_id: null })
    expect(await registerCommands(a.agentId)).toEqual([])

    const replicaInstance = ec2Id()
    const put = await call(
      'PUT',
      `${base}/replicas/${created.json.replica_id}`,
      { instance_id: replicaInstance },
      a.client.auth,
    )
    expect(put.json).toMatchObject({ status: 'promoted' })
    const [told] = await registerCommands(a.agentId)
    expect(told).toMatchObject({
      instanceId: replicaInstance,
      payload: { old_instance_id: a.instanceId, termination_time: terminationTime },
    })
  })

  it('tells nothing when the drain registered the replacement itself, or the replacement no longer runs the workload', async () => {
    const agent = await seedAgent('5.0.0')
    const notice = { instance_id: agent.instanceId, termination_time: at(120), detected_at: at(0) }
    expect((await post(agent, '/termination-imminent', notice)).status).toBe(409)
    const replacement = ec2Id()
    await ownLaunch(agent, replacement)
    expect((await post(agent, '/interruption-drain', drainReport(agent, replacement))).status).toBe(200)
    expect(await registerCommands(agent.agentId)).toEqual([])

    // Superseded: the replacement switched away before the drain's report landed.
    const other = await seedAgent('5.0.0')
    const otherNotice = { instance_id: other.instanceId, termination_time: at(120), detected_at: at(0) }
    expect((await post(other, '/termination-imminent', otherNotice)).status).toBe(409)
    const first = ec2Id()
    await ownLaunch(other, first)
    const moved = await post(other, '/switch-report', {
      trigger: 'manual',
      old_instance: side(first, 'us-east-1a'),
      new_instance: side(ec2Id(), 'us-east-1b'),
      timing: { switch_initiated_at: at(300), new_instance_ready_at: at(360) },
    })
    expect(moved.status).toBe(201)
    expect((await post(other, '/interruption-drain', drainReport(other))).status).toBe(200)
    expect(await registerCommands(other.agentId)).toEqual([])
  })
})
