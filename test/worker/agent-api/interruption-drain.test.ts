/**
 * A stateful agent's drain on an interruption notice, reported once it ended (POST interruption-drain):
 * kept in the notice's event with the target groups it left, and shown with the interruption's switch.
 */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { events, switches } from '../../../src/db/schema'
import { db, post, seedAgent } from '../session/seed'
import { get, seedUser } from '../web/seed'

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
