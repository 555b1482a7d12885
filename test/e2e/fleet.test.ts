/**
 * The fleet end to end, across real processes: wrangler dev, three agent bundles on simulated
 * instances, the fakes of EC2, Price List and IMDS. One world for the file; each test drives one
 * agent and waits for the expected state through the APIs and the fakes, never a fixed delay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queryD1, sql } from '../support/d1'
import { eventually } from '../support/eventually'
import { startE2eWorld, type E2eWorld } from '../support/fleet-harness'
import { finished, registered, replicaAfterRebalance } from '../support/fleet-waits'
import { expectInterruptionEnd } from '../support/interruption-end'

let world: E2eWorld

beforeAll(async () => {
  world = await startE2eWorld({ agents: 3, agentEnv: { REBALANCE_CHECK_INTERVAL: '1' } })
})

afterAll(async () => {
  await world?.stop()
})

/** The Elastic IP on an instance (every workload of the simulator has one). */
function addressOf(instanceId: string): string {
  return [...world.fleet.region.ec2.state.addresses.values()].find((a) => a.instanceId === instanceId)!.allocationId
}


describe('a fleet of three agents', () => {
  it('switches pools on a manual command: old instance terminated after the wait, switch and downtime in history, ledger segments', async () => {
    const { api, fleet, client, worker } = world
    const agent = await registered(world, 'agent-1')
    await api.configure(agent.id, { autoTerminateEnabled: true, terminateWaitSeconds: 3 })
    const oldInstanceId = agent.instanceId!
    const oldAz = fleet.region.ec2.instance(oldInstanceId)!.az
    const targetAz = fleet.region.zones.find((az) => az !== oldAz)!
    await eventually(async () => (await queryD1(worker.persistDir, `select 1 from price_quotes where series = 't3.medium.${targetAz}'`)).length > 0, {
      what: 'the target pool priced by a report',
      timeoutMs: 30_000,
    })

    const queued = await api.forceSwitch(oldInstanceId, { target: 'pool', pool_id: `t3.medium.${targetAz}` })
    expect(queued.success).toBe(true)
    await finished(world, queued.command_id!)

    const history = await eventually(async () => (await api.switchHistory(client.id)).find((s) => s.commandId === queued.command_id), { what: 'the switch in history' })
    expect(history.oldInstanceId).toBe(oldInstanceId)
    expect(history.toPool).toBe(`t3.medium.${targetAz}`)
    expect(history.downtimeMs).toBeTypeOf('number')
    const created = fleet.region.ec2.instance(history.newInstanceId!)!
    expect(created).toMatchObject({ az: targetAz, lifecycle: 'spot', state: 'running' })
    expect(created.tags.LogicalAgentId).toBe('agent-1')

    await eventually(() => fleet.region.ec2.instance(oldInstanceId)?.state === 'terminated', { what: 'the old instance terminated after the wait', timeoutMs: 60_000 })
    await eventually(async () => (await api.agent(client.id, 'agent-1'))?.instanceId === history.newInstanceId, { what: 'the agent on its new instance' })
    const newOnes = [...fleet.region.ec2.state.instances.values()].filter((i) => i.tags.LogicalAgentId === 'agent-1' && i.instanceId !== oldInstanceId)
    expect(newOnes.map((i) => i.instanceId)).toEqual([history.newInstanceId])

    // The ledger: the engine's cron (which also catches up on segments) runs, as the simulator would run it.
    const segments = await eventually(
      async () => {
        await worker.scheduled('*/5 * * * *')
        const rows = await queryD1<{ instance_id: string; role: string; ended_at: number | null }>(
          worker.persistDir,
          `select instance_id, role, ended_at from usage_segments where agent_id = '${sql(agent.id)}' order by started_at`,
        )
        const old = rows.find((r) => r.instance_id === oldInstanceId && r.role === 'primary')
        const now = rows.find((r) => r.instance_id === history.newInstanceId && r.role === 'primary')
        return old?.ended_at && now && now.ended_at === null ? rows : undefined
      },
      { what: 'ledger segments: old primary closed, new primary open', intervalMs: 1_000 },
    )
    expect(segments.some((r) => r.instance_id === oldInstanceId && r.role === 'overlap')).toBe(true)

  })

  it('answers a rebalance recommendation with an emergency replica launched and ready', async () => {
    const { fleet, worker } = world
    const agent = await registered(world, 'agent-2')
    const primaryAz = fleet.region.ec2.instance(agent.instanceId!)!.az
    const row = await replicaAfterRebalance(world, agent.id, agent.instanceId!)
    expect(row.replica.type).toBe('emergency')
    const instance = fleet.region.ec2.instance(row.replica.instanceId!)!
    expect(instance).toMatchObject({ state: 'running', lifecycle: 'spot' })
    expect(instance.az).not.toBe(primaryAz)
    expect(instance.tags).toMatchObject({ LogicalAgentId: 'agent-2', ReplicaId: row.replica.id })
    const signals = await queryD1(worker.persistDir, `select kind from events where agent_id = '${sql(agent.id)}' and kind = 'rebalance'`)
    expect(signals.length).toBeGreaterThanOrEqual(1)
  })

  it('fails over to the ready replica on an interruption notice: promoted, address moved, old instance ended, recorded; prints the failover time', async () => {
    const { api, fleet, client, worker } = world
    const agent = await registered(world, 'agent-2')
    // The failover, not the engine: the engine may move the promoted workload to a cheaper type at once.
    await api.configure(agent.id, { autoSwitchEnabled: false })
    const [replica] = (await api.replicas(client.id)).filter((r) => r.agentId === agent.id && r.replica.status === 'ready')
    expect(replica).toBeDefined()
    const oldInstanceId = agent.instanceId!
    const allocationId = addressOf(oldInstanceId)
    const interruptedAt = Date.now()
    fleet.region.interrupt(oldInstanceId, 30)

    const promote = await eventually(
      async () => {
        const [row] = await queryD1<{ id: string; status: string }>(worker.persistDir, `select id, status from commands where agent_id = '${sql(agent.id)}' and command_type = 'promote_replica'`)
        if (row?.status === 'failed') throw new Error('promote_replica failed')
        return row?.status === 'completed' ? row : undefined
      },
      { what: 'the promote command completed', timeoutMs: 60_000 },
    )
    const failoverMs = Date.now() - interruptedAt
    const { newInstanceId } = await expectInterruptionEnd(world, {
      logicalAgentId: 'agent-2',
      agentId: agent.id,
      oldInstanceId,
      allocationId,
      addressFollows: true,
      viaReplica: true,
    })
    expect(newInstanceId).toBe(replica!.replica.instanceId)
    const [event] = await queryD1<{ action: string; new_instance_id: string; failover_ms: number }>(
      worker.persistDir,
      `select action, new_instance_id, failover_ms from events where agent_id = '${sql(agent.id)}' and kind = 'termination_notice'`,
    )
    expect(event).toMatchObject({ action: 'replica_promoted', new_instance_id: newInstanceId })
    expect(event!.failover_ms).toBeGreaterThan(0)
    expect(promote.id).toBeTruthy()
    console.log(`failover: notice in IMDS → promote command completed in ${failoverMs} ms (control plane: notice received → command completed ${event!.failover_ms} ms)`)
  })

  it('without a replica, launches an emergency replacement that the control plane promotes: one interruption switch, the address moved, the old instance ended', async () => {
    const { api, fleet, client, worker } = world
    const agent = await registered(world, 'agent-3')
    await api.configure(agent.id, { autoSwitchEnabled: false })
    const oldInstanceId = agent.instanceId!
    const primaryAz = fleet.region.ec2.instance(oldInstanceId)!.az
    const allocationId = addressOf(oldInstanceId)
    fleet.region.interrupt(oldInstanceId, 40)

    const { newInstanceId } = await expectInterruptionEnd(world, {
      logicalAgentId: 'agent-3',
      agentId: agent.id,
      oldInstanceId,
      allocationId,
      addressFollows: true,
      viaReplica: true,
    })
    const instance = fleet.region.ec2.instance(newInstanceId)!
    expect(instance.az).not.toBe(primaryAz)
    expect(instance.tags).toMatchObject({ LogicalAgentId: 'agent-3', ReplicaType: 'emergency' })
    const [promoted] = (await api.replicas(client.id, true)).filter((r) => r.agentId === agent.id && r.replica.instanceId === newInstanceId)
    expect(promoted!.replica).toMatchObject({ type: 'emergency', status: 'promoted' })
    const [event] = await queryD1<{ action: string; failover_ms: number | null }>(worker.persistDir, `select action, failover_ms from events where agent_id = '${sql(agent.id)}' and kind = 'termination_notice'`)
    expect(event?.action).toBe('replica_promoted')
    expect(event?.failover_ms).toBeGreaterThan(0)
  })
})
