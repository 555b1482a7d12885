/**
 * Faults and mixed fleets across real processes: installed-agent emulations beside new agents on one
 * client, an agent killed mid-switch and restarted, and the control plane restarted in the middle of
 * a switch. One world (wrangler dev, two agents, two emulations) for the file.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LegacyAgent } from '../emulators/legacy-agent'
import { Metrics } from '../load/metrics'
import { queryD1, sql } from '../support/d1'
import { eventually } from '../support/eventually'
import { startE2eWorld, type E2eWorld } from '../support/fleet-harness'
import { finished, registered } from '../support/fleet-waits'

let world: E2eWorld
const legacy: LegacyAgent[] = []
const legacyMetrics = new Metrics()
/** When each route of the emulations last got a 2xx (epoch ms). */
const legacyAnswered = new Map<string, number>()
const legacyRecorder = {
  record(route: string, ms: number, status: number) {
    legacyMetrics.record(route, ms, status)
    if (status >= 200 && status < 300) legacyAnswered.set(route, Date.now())
  },
}

beforeAll(async () => {
  world = await startE2eWorld({ agents: 2, agentEnv: { PRICING_REPORT_INTERVAL: '5' } })
})

afterAll(async () => {
  await Promise.all(legacy.map((a) => a.stop()))
  await world?.stop()
})


/** Instances of a workload other than the given ones (replicas excluded). */
function otherInstances(logicalAgentId: string, known: string[]) {
  return [...world.fleet.region.ec2.state.instances.values()].filter((i) => i.tags.LogicalAgentId === logicalAgentId && !i.tags.ReplicaId && !known.includes(i.instanceId))
}

describe('faults and mixed fleets', () => {
  it('serves installed 4.0.0 and 3.2.0 agents beside new agents on one client, a polled switch included', async () => {
    const { api, client } = world
    const cadence = { heartbeat: 2, pendingCommands: 2, config: 4, pricing: 3, replicaPoll: 3 }
    for (const [version, n] of [['4.0.0', 1], ['3.2.0', 2]] as const) {
      const agent = new LegacyAgent({
        serverUrl: world.worker.url,
        identity: { version, token: client.token, logicalAgentId: `legacy-${n}`, instanceId: `i-0legacy00000000${n}`, instanceType: 't3.medium', region: 'us-east-1', az: 'us-east-1a', mode: 'spot' },
        cadence,
        recorder: legacyRecorder,
      })
      legacy.push(agent)
      agent.start()
    }
    const v4 = await registered(world, 'legacy-1')
    const v3 = await registered(world, 'legacy-2')
    expect([v4.version, v3.version]).toEqual(['4.0.0', '3.2.0'])
    await registered(world, 'agent-1')

    const queued = await api.forceSwitch('i-0legacy000000001', { target: 'ondemand' })
    expect(queued.success).toBe(true)
    await finished(world, queued.command_id!)
    const switched = await eventually(async () => (await api.switchHistory(client.id)).find((s) => s.commandId === queued.command_id || (s.agentId === v4.id && s.oldInstanceId === 'i-0legacy000000001')), {
      what: 'the legacy switch in history',
    })
    expect(switched.toMode).toBe('ondemand')
    await eventually(async () => (await api.agent(client.id, 'legacy-1'))?.instanceId === legacy[0]!.identity.instanceId, { what: 'the legacy agent on its new instance' })
    expect(legacy[0]!.executedCommands).toEqual([queued.command_id])
    await eventually(() => legacyMetrics.table().some((r) => r.route === 'pricing-report' && r.count >= 2), { what: 'legacy pricing reports' })
    expect(legacyMetrics.firstErrors).toEqual([])
  })

  it('launches exactly one new instance and completes the switch once when the agent is killed mid-switch', async () => {
    const { api, fleet, client, worker } = world
    const agent = await registered(world, 'agent-1')
    await api.configure(agent.id, { autoTerminateEnabled: true, terminateWaitSeconds: 2 })
    const oldInstanceId = agent.instanceId!
    fleet.region.ec2.clearLog()

    const queued = await api.forceSwitch(oldInstanceId, { target: 'ondemand' })
    expect(queued.success).toBe(true)
    await eventually(() => fleet.region.ec2.count('RunInstances') > 0, { what: 'the launch of the new instance', timeoutMs: 60_000, intervalMs: 10 })
    await fleet.supervisor.kill(oldInstanceId)
    await eventually(() => fleet.supervisor.running().some((r) => r.instanceId === oldInstanceId && r.restarts === 1), { what: 'the agent restarted', timeoutMs: 30_000 })

    await finished(world, queued.command_id!)
    await eventually(() => fleet.region.ec2.instance(oldInstanceId)?.state === 'terminated', { what: 'the old instance terminated', timeoutMs: 60_000 })
    const launched = otherInstances('agent-1', [oldInstanceId])
    expect(launched).toHaveLength(1)
    expect(launched[0]!.lifecycle).toBe('on-demand')
    const rows = await queryD1<{ n: number }>(worker.persistDir, `select count(*) as n from switches where command_id = '${sql(queued.command_id!)}'`)
    expect(rows[0]!.n).toBe(1)
    const history = (await api.switchHistory(client.id)).filter((s) => s.agentId === agent.id)
    expect(history).toHaveLength(1)
  })

  it('keeps agents working across a control-plane restart: they reconnect, the command runs once, reports land', async () => {
    const { api, fleet, client, worker } = world
    const agent = await registered(world, 'agent-2')
    await Promise.all([registered(world, 'agent-1'), registered(world, 'legacy-1'), registered(world, 'legacy-2')])
    await api.configure(agent.id, { autoTerminateEnabled: true, terminateWaitSeconds: 2 })
    const oldInstanceId = agent.instanceId!
    fleet.region.ec2.clearLog()
    const queued = await api.forceSwitch(oldInstanceId, { target: 'ondemand' })
    expect(queued.success).toBe(true)
    // Restart while the agent runs the switch: its report and result must reach the new Worker.
    await eventually(() => fleet.region.ec2.count('RunInstances') > 0, { what: 'the switch under way', timeoutMs: 60_000, intervalMs: 20 })

    await worker.restart()
    const restartedAt = Date.now()

    await finished(world, queued.command_id!)
    await eventually(async () => (await api.agent(client.id, 'agent-2'))?.instanceId !== oldInstanceId, { what: 'agent-2 moved to its new instance' })
    const launched = otherInstances('agent-2', [oldInstanceId])
    expect(launched).toHaveLength(1)
    const rows = await queryD1<{ n: number }>(worker.persistDir, `select count(*) as n from switches where command_id = '${sql(queued.command_id!)}'`)
    expect(rows[0]!.n).toBe(1)
    // New agents reopen their push socket; installed ones get answers again (price reports included).
    const socketOpenedAfter = (instanceId: string) =>
      readFileSync(join(fleet.supervisor.instanceDir(instanceId), 'agent.log'), 'utf8')
        .split('\n')
        .some((line) => line.includes('"push socket open"') && Date.parse(line.slice(9, 33)) > restartedAt)
    const agent1 = (await registered(world, 'agent-1')).instanceId!
    await eventually(() => socketOpenedAfter(agent1), { what: 'agent-1 reconnected its push socket', timeoutMs: 60_000 })
    await eventually(() => ['heartbeat', 'pending-commands', 'pricing-report'].every((route) => (legacyAnswered.get(route) ?? 0) > restartedAt), {
      what: 'legacy agents answered again, their price reports accepted',
      timeoutMs: 60_000,
    })
  })
})
