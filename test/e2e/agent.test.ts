/**
 * The agent bundle as a real Node process, on a simulated instance (fake EC2, Price List, IMDS),
 * against the real control plane under wrangler dev. Assertions read what the control plane stored.
 */
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

describe('agent bundle against the control plane', () => {
  it('registers as 5.0.0, heartbeats and reports prices', async () => {
    scenario = await startScenario(worker, { env: { HEARTBEAT_INTERVAL: '1' } })
    const s = scenario
    const [agent] = await s.sql<{ agent_version: string; instance_id: string; status: string }>(
      `select agent_version, instance_id, status from agents where id = ${q(s.agentId)}`,
    )
    expect(agent).toMatchObject({ agent_version: '5.0.0', instance_id: s.sim.workload.instanceId })
    const prices = await eventually(
      async () => {
        const rows = await s.sql<{ pool_id: string }>(`select distinct pool_id from spot_prices where pool_id like 't3.medium.%'`)
        return rows.length >= 3 && rows
      },
      { what: 'spot prices of the three AZs' },
    )
    expect(prices.map((p) => p.pool_id).sort()).toEqual(['t3.medium.us-east-1a', 't3.medium.us-east-1b', 't3.medium.us-east-1c'])
    const beats = await eventually(
      async () => {
        const [row] = await s.sql<{ last_heartbeat_at: number }>(`select last_heartbeat_at from agents where id = ${q(s.agentId)}`)
        return row?.last_heartbeat_at && row.last_heartbeat_at > Date.now() - 30_000 && row
      },
      { what: 'a recent heartbeat' },
    )
    expect(beats.last_heartbeat_at).toBeGreaterThan(0)
    expect(s.sim.ec2.count('DescribeSpotPriceHistory')).toBe(1)
  })

  it('an interruption notice reaches the control plane as an interruption event', async () => {
    scenario = await startScenario(worker)
    const s = scenario
    s.sim.imds.interrupt({ action: 'terminate', time: Date.now() + 120_000 })
    const [event] = await eventually(
      () => s.sql<{ kind: string; instance_id: string }>(`select kind, instance_id from events where agent_id = ${q(s.agentId)} and kind = 'termination_notice'`).then((r) => r.length > 0 && r),
      { what: 'the interruption event' },
    )
    expect(event!.instance_id).toBe(s.sim.workload.instanceId)
  })

  it('a rebalance recommendation ends with a launched, ready replica', async () => {
    scenario = await startScenario(worker)
    const s = scenario
    // A replica is placed on the prices the client's own agents reported (docs/trust-model.md).
    await eventually(
      () => s.sql(`select 1 from spot_prices where reported_by_agent_id = ${q(s.agentId)}`).then((r) => r.length > 0),
      { what: "the agent's first pricing report" },
    )
    s.sim.imds.rebalance(Date.now())
    const [replica] = await eventually(
      () => s.sql<{ status: string; instance_id: string }>(`select status, instance_id from replicas where agent_id = ${q(s.agentId)} and status = 'ready'`).then((r) => r.length > 0 && r),
      { what: 'a ready replica' },
    )
    const launched = s.sim.ec2.instance(replica!.instance_id)
    expect(launched?.state).toBe('running')
    expect(launched?.tags.ManagedBy).toBe('SpotOptimizer')
    expect([...s.sim.ec2.state.instances.values()].filter((i) => i.instanceId !== s.sim.workload.instanceId)).toHaveLength(1)
  })

  it('cleanup deletes an old SpotGuard AMI and keeps the one a running instance uses', async () => {
    const old = Date.now() - 40 * 86_400_000
    scenario = await startScenario(worker, { env: { CLEANUP_INTERVAL: '2' } })
    const s = scenario
    const tags = { ManagedBy: 'SpotOptimizer', LogicalAgentId: 'agent-web-1' }
    const inUse = s.sim.ec2.seed.addImage({ ownerId: 'self', tags, createdAt: old })
    const unused = s.sim.ec2.seed.addImage({ ownerId: 'self', tags, createdAt: old })
    const w = s.sim.workload
    s.sim.ec2.seed.addInstance({ imageId: inUse, instanceType: 't3.medium', subnetId: w.subnets['us-east-1b']!, securityGroupIds: [w.securityGroupId], tags })
    const [report] = await eventually(
      () => s.sql<{ amis_deleted: number }>(`select amis_deleted from cleanup_reports where agent_id = ${q(s.agentId)} and amis_deleted > 0`).then((r) => r.length > 0 && r),
      { what: 'a cleanup report that deleted an AMI' },
    )
    expect(report!.amis_deleted).toBe(1)
    expect(s.sim.ec2.state.images.has(inUse)).toBe(true)
    expect(s.sim.ec2.state.images.has(unused)).toBe(false)
  })

  it('switches with a wait: report and executed land before the old instance terminates, one new instance despite a kill mid-switch', async () => {
    scenario = await startScenario(worker, { lifecycle: 'on-demand' })
    const s = scenario
    const old = s.sim.workload.instanceId
    const config = await worker.admin(`/api/client/agents/${s.agentId}/config`, { method: 'POST', body: JSON.stringify({ terminateWaitSeconds: 3 }) })
    expect(config.status).toBe(200)
    let terminateCalledAt = 0
    s.sim.ec2.failWhen('TerminateInstances', (params) => {
      if (params.get('InstanceId.1') === old && !terminateCalledAt) terminateCalledAt = Date.now()
      return undefined
    })
    // The agent dies the moment EC2 accepts the launch; the restarted agent must resume, not relaunch.
    let killed = false
    s.sim.ec2.onLaunch(() => {
      if (killed) return
      killed = true
      s.agent.child.kill('SIGKILL')
    })
    await eventually(
      () => s.sql(`select pool_id from spot_prices where pool_id = 't3.medium.us-east-1b'`).then((r) => r.length > 0),
      { what: 'the target pool known from a pricing report' },
    )
    const answer = await worker.admin(`/api/client/instances/${old}/force-switch`, {
      method: 'POST',
      body: JSON.stringify({ target: 'pool', pool_id: 't3.medium.us-east-1b' }),
    })
    expect(answer.status, await answer.clone().text()).toBeLessThan(300)
    await s.agent.exited
    expect(killed).toBe(true)
    const again = await s.restart()
    await again.waitFor((l) => l.msg === 'command accepted' && l.via === 'resume', 'the switch resumed')

    const [row] = await eventually(
      () => s.sql<{ received_at: number; new_instance_id: string; traffic_switched_at: number }>(`select received_at, new_instance_id, traffic_switched_at from switches where agent_id = ${q(s.agentId)}`).then((r) => r.length > 0 && r),
      { what: 'the switch record' },
    )
    const [command] = await eventually(
      () => s.sql<{ status: string; finished_at: number }>(`select status, finished_at from commands where agent_id = ${q(s.agentId)} and command_type = 'switch'`).then((r) => r[0]?.status === 'completed' && r),
      { what: 'the switch command completed' },
    )
    await eventually(() => terminateCalledAt > 0, { what: 'the old instance terminated' })
    expect(row!.received_at).toBeLessThan(terminateCalledAt)
    expect(command!.finished_at).toBeLessThan(terminateCalledAt)
    // terminate_wait_seconds counts from the traffic switch (agent and test share this machine's clock).
    expect(terminateCalledAt - row!.traffic_switched_at).toBeGreaterThanOrEqual(3_000)

    const others = [...s.sim.ec2.state.instances.values()].filter((i) => i.instanceId !== old)
    expect(others.map((i) => i.instanceId)).toEqual([row!.new_instance_id])
    expect(others[0]).toMatchObject({ az: 'us-east-1b', lifecycle: 'spot' })
    expect(s.sim.ec2.count('CreateImage')).toBe(1)
    expect(await again.exited).toBe(0)
  })

  it('deleted while it was stopped, it runs its uninstall once restarted and stops for good', async () => {
    scenario = await startScenario(worker)
    const s = scenario
    expect(await s.agent.stop('SIGTERM')).toBe(0)
    const deleted = await worker.admin(`/api/client/agents/${s.agentId}`, { method: 'DELETE' })
    const { uninstallCommandId } = (await deleted.json()) as { uninstallCommandId: string }
    const again = await s.restart()
    await again.waitFor((l) => l.msg.startsWith('this agent was deleted in the dashboard: it runs its uninstall'), 'the deleted agent told so')
    expect(await again.exited).toBe(0)
    expect(again.lines.find((l) => l.msg === 'command finished')).toMatchObject({ command_id: uninstallCommandId, success: true })
    const [command] = await s.sql<{ status: string }>(`select status from commands where id = ${q(uninstallCommandId)}`)
    expect(command?.status).toBe('completed')
    const [agent] = await s.sql<{ status: string }>(`select status from agents where id = ${q(s.agentId)}`)
    expect(agent?.status).toBe('deleted')
    // Retired on this instance: started again, it does not even register.
    const third = await s.restart()
    expect(await third.exited).toBe(0)
    expect(third.lines.some((l) => l.msg === 'this instance no longer runs the workload; not registering')).toBe(true)
  })

  it('keeps running while the control plane is down and delivers every report when it is back', async () => {
    scenario = await startScenario(worker, { env: { HEARTBEAT_INTERVAL: '1', PRICING_REPORT_INTERVAL: '2', CLEANUP_INTERVAL: '2' } })
    const s = scenario
    await worker.halt()
    const downAt = Date.now()
    await s.agent.waitFor((l) => l.msg === 'report not delivered, will retry' && Date.parse(l.time) > downAt, 'a failed delivery while down')
    await s.agent.waitFor((l) => l.msg === 'cleanup done' && Date.parse(l.time) > downAt, 'a cleanup while down')
    await worker.restart()
    const upAt = Date.now()
    await s.agent.waitFor((l) => l.msg === 'push socket open' && Date.parse(l.time) >= upAt, 'the push socket back')
    // Every cleanup report made so far, while down included, lands once the control plane is back.
    const made = s.agent.lines.filter((l) => l.msg === 'cleanup done').length
    expect(s.agent.lines.filter((l) => l.msg === 'cleanup done' && Date.parse(l.time) > downAt && Date.parse(l.time) < upAt).length).toBeGreaterThan(0)
    await eventually(
      () => s.sql<{ n: number }>(`select count(*) as n from cleanup_reports where agent_id = ${q(s.agentId)}`).then((r) => (r[0]?.n ?? 0) >= made),
      { what: `all ${made} cleanup reports stored` },
    )
    await s.agent.waitFor((l) => l.msg === 'command accepted' || (l.msg === 'cleanup done' && Date.parse(l.time) > upAt + 3_000), 'the agent still working after the outage')
    expect(s.agent.child.exitCode).toBeNull()
  })
})
