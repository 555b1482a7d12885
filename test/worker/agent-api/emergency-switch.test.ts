/**
 * An agent that launched its own replacement while the control plane was unreachable reports it as an
 * `interruption` switch: the notice nobody heard becomes the old pool's interruption event, once.
 */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { events, instances, switches } from '../../../src/db/schema'
import { call, db, newAgent, type TestAgent } from './helpers'

const terminationTime = '2026-11-27T08:02:00Z'

function emergencyReport(agent: TestAgent, newInstanceId: string, trigger = 'interruption') {
  return {
    old_instance: {
      instance_id: agent.instanceId,
      instance_type: 't3.medium',
      region: 'us-east-1',
      az: 'us-east-1a',
      mode: 'spot',
    },
    new_instance: {
      instance_id: newInstanceId,
      instance_type: 't3.medium',
      region: 'us-east-1',
      az: 'us-east-1c',
      mode: 'spot',
    },
    prices: { on_demand: 0.0416, old_spot: 0.0125, new_spot: 0.0119 },
    timing: {
      switch_initiated_at: '2026-11-27T08:00:05Z',
      new_instance_launched_at: '2026-11-27T08:00:20Z',
      old_instance_terminated_at: terminationTime,
    },
    trigger,
  }
}

async function instanceOf(instanceId: string) {
  const [row] = await db().select().from(instances).where(eq(instances.instanceId, instanceId))
  return row
}

const noticesOf = (agent: TestAgent) =>
  db()
    .select()
    .from(events)
    .where(and(eq(events.agentId, agent.agentId), eq(events.kind, 'termination_notice')))

describe('switch-report of an emergency launch', () => {
  it('records the unheard notice as an interruption event of the old pool, once', async () => {
    const agent = await newAgent()
    const report = emergencyReport(agent, 'i-0e0000000000000001')
    const first = await call('POST', `/api/agents/${agent.agentId}/switch-report`, report, agent.client.auth)
    expect(first.status).toBe(201)
    const repeat = await call('POST', `/api/agents/${agent.agentId}/switch-report`, report, agent.client.auth)
    expect(repeat.json.duplicate).toBe(true)

    const notices = await noticesOf(agent)
    expect(notices).toHaveLength(1)
    expect(notices[0]).toMatchObject({
      instanceId: agent.instanceId,
      poolId: 't3.medium.us-east-1a',
      terminationTime: new Date(terminationTime).getTime(),
      action: 'agent_emergency_launch',
      newInstanceId: 'i-0e0000000000000001',
    })
  })

  it('fills in the Elastic IP move a repeated report adds, and its downtime', async () => {
    const agent = await newAgent()
    const report = emergencyReport(agent, 'i-0e0000000000000004')
    await call('POST', `/api/agents/${agent.agentId}/switch-report`, report, agent.client.auth)
    const moved = { ...report, timing: { ...report.timing, traffic_switched_at: '2026-11-27T08:02:10Z' } }
    const repeat = await call('POST', `/api/agents/${agent.agentId}/switch-report`, moved, agent.client.auth)
    expect(repeat.json.duplicate).toBe(true)
    const [row] = await db().select().from(switches).where(eq(switches.agentId, agent.agentId))
    expect(row).toMatchObject({
      trafficSwitchedAt: Date.parse('2026-11-27T08:02:10Z'),
      downtimeMs: 10_000,
      durationMs: 125_000,
    })
    expect(await db().select().from(switches).where(eq(switches.agentId, agent.agentId))).toHaveLength(1)
  })

  it('adds nothing when the control plane heard the notice itself', async () => {
    const agent = await newAgent()
    const notice = await call(
      'POST',
      `/api/agents/${agent.agentId}/termination-imminent`,
      {
        instance_id: agent.instanceId,
        termination_time: terminationTime,
        detected_at: '2026-11-27T08:00:01Z',
      },
      agent.client.auth,
    )
    expect(notice.json.action).toBe('emergency_snapshot_required')
    await call(
      'POST',
      `/api/agents/${agent.agentId}/switch-report`,
      emergencyReport(agent, 'i-0e0000000000000002'),
      agent.client.auth,
    )
    expect(await noticesOf(agent)).toHaveLength(1)
  })

  it('adds nothing for a switch of another trigger', async () => {
    const agent = await newAgent()
    await call(
      'POST',
      `/api/agents/${agent.agentId}/switch-report`,
      emergencyReport(agent, 'i-0e0000000000000003', 'manual'),
      agent.client.auth,
    )
    expect(await noticesOf(agent)).toHaveLength(0)
  })

  it("ends the old instance at the notice's time: terminated when the report comes after it, terminating until then when before", async () => {
    const late = await newAgent()
    await call(
      'POST',
      `/api/agents/${late.agentId}/switch-report`,
      emergencyReport(late, 'i-0e0000000000000005'),
      late.client.auth,
    )
    expect(await instanceOf(late.instanceId)).toMatchObject({
      status: 'terminated',
      terminatedAt: Date.parse(terminationTime),
    })

    const early = await newAgent()
    const endsAt = new Date(Date.now() + 100_000).toISOString()
    const report = emergencyReport(early, 'i-0e0000000000000006')
    report.timing.old_instance_terminated_at = endsAt
    await call('POST', `/api/agents/${early.agentId}/switch-report`, report, early.client.auth)
    expect(await instanceOf(early.instanceId)).toMatchObject({
      status: 'terminating',
      terminatedAt: Date.parse(endsAt),
    })
  })

  describe('reported by both hosts (the replacement carries the report in its tags)', () => {
    /** The replacement's agent registers under the workload's logical id, then sends its version. */
    async function replacementReports(agent: TestAgent, logicalAgentId: string, newInstanceId: string) {
      const registered = await call(
        'POST',
        '/api/agents/register',
        {
          logical_agent_id: logicalAgentId,
          instance_id: newInstanceId,
          instance_type: 't3.medium',
          region: 'us-east-1',
          az: 'us-east-1c',
          mode: 'spot',
          agent_version: '5.0.0',
          replica_id: 'local-n-1',
        },
        agent.client.auth,
      )
      expect(registered.status).toBe(200)
      expect(registered.json.agent_id).toBe(agent.agentId)
      // It cannot know when the Elastic IP moved: only the old host saw that.
      const report = emergencyReport(agent, newInstanceId)
      return call('POST', `/api/agents/${agent.agentId}/switch-report`, report, agent.client.auth)
    }
    const withMove = (report: ReturnType<typeof emergencyReport>) => ({
      ...report,
      timing: { ...report.timing, traffic_switched_at: '2026-11-27T08:01:40Z' },
    })

    async function expectOneSwitch(agent: TestAgent, newInstanceId: string) {
      const recorded = await db().select().from(switches).where(eq(switches.agentId, agent.agentId))
      expect(recorded).toHaveLength(1)
      expect(recorded[0]).toMatchObject({
        trigger: 'interruption',
        oldInstanceId: agent.instanceId,
        newInstanceId,
        trafficSwitchedAt: Date.parse('2026-11-27T08:01:40Z'),
      })
      expect(await instanceOf(agent.instanceId)).toMatchObject({
        status: 'terminated',
        terminatedAt: Date.parse(terminationTime),
      })
      expect(await instanceOf(newInstanceId)).toMatchObject({ status: 'active', terminatedAt: null })
      expect(await noticesOf(agent)).toHaveLength(1)
    }

    it("records one switch when the replacement's report comes first and the old host's after", async () => {
      const logicalAgentId = `logical-${crypto.randomUUID()}`
      const agent = await newAgent(undefined, { logical_agent_id: logicalAgentId })
      const newInstanceId = 'i-0e0000000000000011'
      expect((await replacementReports(agent, logicalAgentId, newInstanceId)).status).toBe(201)
      const late = await call(
        'POST',
        `/api/agents/${agent.agentId}/switch-report`,
        withMove(emergencyReport(agent, newInstanceId)),
        agent.client.auth,
      )
      expect(late.json.duplicate).toBe(true)
      await expectOneSwitch(agent, newInstanceId)
    })

    it("records one switch when the old host's report comes first", async () => {
      const logicalAgentId = `logical-${crypto.randomUUID()}`
      const agent = await newAgent(undefined, { logical_agent_id: logicalAgentId })
      const newInstanceId = 'i-0e0000000000000012'
      const first = await call(
        'POST',
        `/api/agents/${agent.agentId}/switch-report`,
        withMove(emergencyReport(agent, newInstanceId)),
        agent.client.auth,
      )
      expect(first.status).toBe(201)
      expect((await replacementReports(agent, logicalAgentId, newInstanceId)).json.duplicate).toBe(true)
      await expectOneSwitch(agent, newInstanceId)
    })
  })
})
