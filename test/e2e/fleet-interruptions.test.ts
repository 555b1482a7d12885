/**
 * Interruptions on the paths fleet.test.ts does not take, across real processes: an installed 4.0.0
 * agent (emulated on its own simulated instance, acting on the fake EC2), a replacement still pending
 * when its old host died (the promoted instance's own agent moves the address; after the capacity
 * refusals on-demand comes first, and the switch says what EC2 holds), replacements refused for capacity
 * (on-demand as the last resort; nothing at all), and the control plane unreachable during the notice.
 * Each follows the flow to what the user sees and what EC2 holds. One world for the file; the control
 * plane goes down in the last test. It runs on one simulated clock SPEED times real time (the notices,
 * the agents' share of them and their cadence in simulated seconds): mostly the file waits for notices
 * to run out, and they run out twice as fast.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedWorkload } from '../fakes'
import type { Params } from '../fakes/ec2/query'
import { startInstalledAgent, type InstalledAgent } from '../emulators/installed-agent'
import type { Recorder } from '../emulators/legacy-agent'
import { queryD1, sql } from '../support/d1'
import { eventually } from '../support/eventually'
import { startE2eWorld, type E2eWorld } from '../support/fleet-harness'
import { finished, registered } from '../support/fleet-waits'
import { expectInterruptionEnd } from '../support/interruption-end'
import { slowStep } from '../support/slow-step'

const SPEED = 2

let world: E2eWorld
const installed: InstalledAgent[] = []

beforeAll(async () => {
  world = await startE2eWorld({ agents: 4, speed: SPEED })
  await eventually(
    async () =>
      (await queryD1(world.worker.persistDir, `select distinct series from price_quotes where series not like 'ondemand:%'`)).length >=
      3,
    { what: 'every pool priced', timeoutMs: 60_000 },
  )
})

afterAll(async () => {
  await slowStep('the installed agents to stop', () => Promise.all(installed.map((a) => a.stop())))
  await world?.stop()
})

/** The Elastic IP on an instance (every workload of the simulator has one). */
function addressOf(instanceId: string): string {
  return [...world.fleet.region.ec2.state.addresses.values()].find((a) => a.instanceId === instanceId)!
    .allocationId
}

/** The value of a tag a RunInstances call asks for. */
function requestedTag(params: Params, key: string): string | undefined {
  for (const [name, value] of params) {
    const match = /^TagSpecification\.(\d+)\.Tag\.(\d+)\.Key$/.exec(name)
    if (match && value === key)
      return params.get(`TagSpecification.${match[1]}.Tag.${match[2]}.Value`) ?? undefined
  }
  return undefined
}

/**
 * A workload whose instance runs the installed 4.0.0 agent: no LogicalAgentId tag, so no new agent
 * boots there (nor on what it launches from the launch AMI); the emulation registers with `logicalAgentId`.
 */
async function installedAgentOn(az: string, logicalAgentId: string, recorder?: Recorder) {
  const { fleet, client, worker } = world
  const w = seedWorkload(fleet.region.ec2, { lifecycle: 'spot', az })
  delete fleet.region.ec2.instance(w.instanceId)!.tags.LogicalAgentId
  const imds = await eventually(() => fleet.region.imdsOf(w.instanceId), { what: 'the instance IMDS' })
  const agent = await startInstalledAgent({
    serverUrl: worker.url,
    token: client.token,
    imdsUrl: imds.url,
    ec2Url: fleet.region.ec2.url,
    logicalAgentId,
    speed: SPEED,
    now: () => fleet.region.clock.now(),
    cadence: {
      heartbeat: 2,
      pendingCommands: 2,
      config: 5,
      pricing: 5,
      replicaPoll: 2,
      interruptionCheck: 1,
      rebalanceCheck: 2,
    },
    // A host shutting down still runs its processes for a moment.
    alive: (id) => fleet.region.ec2.instance(id)?.state !== 'terminated',
    recorder,
  })
  installed.push(agent)
  return { w, agent, row: await registered(world, logicalAgentId) }
}

/** The agent's notice event (its action says how it was answered). */
async function noticeOf(agentId: string) {
  const [event] = await queryD1<{ action: string; failover_ms: number | null; detail: string | null }>(
    world.worker.persistDir,
    `select action, failover_ms, detail from events where agent_id = '${sql(agentId)}' and kind = 'termination_notice'`,
  )
  return event
}

describe('interruptions', () => {
  it('of an installed 4.0.0 agent: its own replica launch from the launch AMI is promoted by the control plane, which says the address stays', async () => {
    const { fleet, client, api } = world
    const routes = new Map<string, number>()
    const { w, agent, row } = await installedAgentOn(fleet.region.zones[0]!, 'legacy-4', {
      record: (route, _ms, status) => status === 200 && routes.set(route, (routes.get(route) ?? 0) + 1),
    })
    expect(row.version).toBe('4.0.0')

    fleet.region.interrupt(w.instanceId, 40)
    const { newInstanceId } = await expectInterruptionEnd(world, {
      logicalAgentId: 'legacy-4',
      agentId: row.id,
      oldInstanceId: w.instanceId,
      allocationId: w.allocationId,
      addressFollows: false,
      viaReplica: true,
    })
    const replacement = fleet.region.ec2.instance(newInstanceId)!
    expect(replacement).toMatchObject({ imageId: w.launchImageId, lifecycle: 'spot' })
    expect(replacement.az).not.toBe(fleet.region.ec2.instance(w.instanceId)!.az)
    expect(agent.launched).toEqual([newInstanceId])
    expect(routes.get('termination-imminent')).toBeUndefined() // answered 409: no replica yet
    const event = await noticeOf(row.id)
    expect(event).toMatchObject({ action: 'replica_promoted' })
    expect(event!.failover_ms).toBeGreaterThan(0)
    const said = (await api.notifications(client.id)).find(
      (n) => n.agentId === row.id && n.message.includes(newInstanceId),
    )
    expect(said?.message).toContain("can't move the Elastic IP")
    await eventually(() => agent.endedBecause === 'host gone', {
      what: 'the installed agent gone with its host',
      timeoutMs: 30_000,
    })
  })

  it('refused for capacity in every spot pool: retried there, then on-demand, promoted', async () => {
    const { fleet, worker } = world
    const agent = await registered(world, 'agent-1')
    const oldInstanceId = agent.instanceId!
    const noSpot = fleet.region.ec2.failWhen('RunInstances', (p) =>
      requestedTag(p, 'LogicalAgentId') === 'agent-1' && p.get('InstanceMarketOptions.MarketType') === 'spot'
        ? 'InsufficientInstanceCapacity'
        : undefined,
    )
    try {
      fleet.region.interrupt(oldInstanceId, 40)
      const { newInstanceId } = await expectInterruptionEnd(world, {
        logicalAgentId: 'agent-1',
        agentId: agent.id,
        oldInstanceId,
        allocationId: addressOf(oldInstanceId),
        addressFollows: true,
        viaReplica: true,
        newMode: 'ondemand',
      })
      expect(fleet.region.ec2.instance(newInstanceId)).toMatchObject({
        lifecycle: 'on-demand',
        az: fleet.region.ec2.instance(oldInstanceId)!.az,
      })
    } finally {
      noSpot()
    }
    // The refusals are the engine's capacity data of those pools.
    const refused = await queryD1<{ pool_id: string; mode: string; error_message: string }>(
      worker.persistDir,
      `select pool_id, mode, error_message from replicas where agent_id = '${sql(agent.id)}' and status = 'failed'`,
    )
    expect(refused).toHaveLength(2)
    expect(
      refused.every((r) => r.mode === 'spot' && r.error_message.includes('InsufficientInstanceCapacity')),
    ).toBe(true)
    expect(new Set(refused.map((r) => r.pool_id)).size).toBe(2)
  })

  it('when nothing can launch: the failure is recorded with every reason and notified, the old instance ended', async () => {
    const { fleet, client, worker, api } = world
    const agent = await registered(world, 'agent-2')
    const oldInstanceId = agent.instanceId!
    const nothing = fleet.region.ec2.failWhen('RunInstances', (p) =>
      requestedTag(p, 'LogicalAgentId') === 'agent-2' ? 'InsufficientInstanceCapacity' : undefined,
    )
    try {
      fleet.region.interrupt(oldInstanceId, 40)
      const event = await eventually(
        async () =>
          (await noticeOf(agent.id))?.action === 'replacement_failed' ? noticeOf(agent.id) : undefined,
        {
          what: 'the replacement recorded as failed',
          timeoutMs: 90_000,
        },
      )
      // Spot pools refused (or still skipped for the refusals of the test before), then on-demand.
      const attempts = (JSON.parse(event!.detail!) as { attempts: string[] }).attempts
      expect(attempts.every((a) => a.includes('InsufficientInstanceCapacity'))).toBe(true)
      expect(attempts.at(-1)).toMatch(/^on-demand in /)
    } finally {
      nothing()
    }
    const said = (await api.notifications(client.id)).filter(
      (n) => n.agentId === agent.id && n.severity === 'error',
    )
    expect(said).toMatchObject([
      { kind: 'interruption', message: expect.stringContaining('no replacement could be launched') },
    ])
    expect((await api.switchHistory(client.id)).filter((s) => s.agentId === agent.id)).toEqual([])
    await eventually(() => fleet.region.ec2.instance(oldInstanceId)?.state === 'terminated', {
      what: 'EC2 reclaimed it',
      timeoutMs: 60_000,
    })
    // Terminating until the notice's time; the 5-minute cron writes it terminated from then on.
    await worker.scheduled('*/5 * * * *')
    const [old] = await queryD1<{ status: string }>(
      worker.persistDir,
      `select status from instances where instance_id = '${sql(oldInstanceId)}'`,
    )
    expect(old?.status).toBe('terminated')
    const launched = [...fleet.region.ec2.state.instances.values()].filter(
      (i) => i.tags.LogicalAgentId === 'agent-2' && i.instanceId !== oldInstanceId,
    )
    expect(launched).toEqual([])
  })

  it("whose replacement still pends when its host dies: the promoted instance's own agent claims the handed-over promote_replica and moves the address", async () => {
    const { fleet, worker } = world
    const agent = await registered(world, 'agent-4')
    const oldInstanceId = agent.instanceId!
    const allocationId = addressOf(oldInstanceId)
    const durations = fleet.region.ec2.state.durations
    const pendingMs = durations.pendingMs
    const promotes = () =>
      queryD1<{ id: string; instance_id: string | null; status: string; message: string | null }>(
        worker.persistDir,
        `select id, instance_id, status, message from commands where agent_id = '${sql(agent.id)}' and command_type = 'promote_replica' order by created_at`,
      )
    // Launches stay pending past the notice: the old host's agent cannot move the address in time.
    durations.pendingMs = 10 * 60_000
    let replicaInstanceId = ''
    try {
      fleet.region.interrupt(oldInstanceId, 30)
      const [first, handed] = await eventually(
        async () => {
          const rows = await promotes()
          return rows.length === 2 ? rows : undefined
        },
        // The old host's failure at its notice's time (30 s), or its claim lapsing 15 s later when the
        // failure died with the host.
        { what: 'the promote command handed over to the promoted instance', timeoutMs: 90_000 },
      )
      expect(first).toMatchObject({
        status: 'failed',
        message: expect.stringMatching(/ReplicaNotRunning|no result before the lease ended/),
      })
      replicaInstanceId = handed!.instance_id!
      expect(fleet.region.ec2.instance(replicaInstanceId)).toMatchObject({ state: 'pending' })
      await eventually(() => fleet.region.ec2.instance(oldInstanceId)?.state === 'terminated', {
        what: 'the old host gone',
        timeoutMs: 60_000,
      })
      expect(fleet.region.ec2.state.addresses.get(allocationId)?.instanceId).not.toBe(replicaInstanceId)
    } finally {
      durations.pendingMs = pendingMs
    }

    // The replacement runs: its agent boots, registers as the primary and finishes the move.
    const { newInstanceId } = await expectInterruptionEnd(world, {
      logicalAgentId: 'agent-4',
      agentId: agent.id,
      oldInstanceId,
      allocationId,
      addressFollows: true,
      viaReplica: true,
      // After the capacity refusals above on-demand comes first: the record says what EC2 holds.
      newMode: null,
    })
    expect(newInstanceId).toBe(replicaInstanceId)
    const [, handed] = await promotes()
    expect(handed).toMatchObject({ instance_id: replicaInstanceId, status: 'completed' })
    expect(
      (await world.api.switchHistory(world.client.id)).find((s) => s.oldInstanceId === oldInstanceId)
        ?.commandId,
    ).toBe(handed!.id)
  })

  it("of an installed 4.0.0 agent's switch: launched from the launch AMI, its host terminated before it reports, recorded once", async () => {
    const { fleet, api, client } = world
    const { w, agent, row } = await installedAgentOn(fleet.region.zones[1]!, 'legacy-switch')
    await api.configure(row.id, { autoTerminateEnabled: true, terminateWaitSeconds: 1 })
    const queued = await api.forceSwitch(w.instanceId, { target: 'ondemand' })
    expect(queued.success).toBe(true)
    const switched = await eventually(
      async () => (await api.switchHistory(client.id)).find((s) => s.oldInstanceId === w.instanceId),
      { what: 'the legacy switch in history', timeoutMs: 60_000 },
    )
    expect(fleet.region.ec2.instance(switched.newInstanceId!)).toMatchObject({
      imageId: w.launchImageId,
      lifecycle: 'on-demand',
    })
    const terminated = fleet.region.ec2.requests.find(
      (r) => r.action === 'TerminateInstances' && r.params['InstanceId.1'] === w.instanceId,
    )
    expect(terminated!.at).toBeLessThanOrEqual(switched.timestamp)
    await finished(world, queued.command_id!)
    expect(agent.executedCommands).toEqual([queued.command_id])
    expect((await api.switchHistory(client.id)).filter((s) => s.oldInstanceId === w.instanceId)).toHaveLength(
      1,
    )
    await eventually(() => agent.endedBecause, {
      what: 'the installed agent gone with its host',
    })
  })

  it('with the control plane unreachable during the notice and after it: the agent launches alone, its host dies with the report queued, and the replacement brings the same end state once it is back', async () => {
    const { fleet, worker } = world
    const agent = await registered(world, 'agent-3')
    const oldInstanceId = agent.instanceId!
    const allocationId = addressOf(oldInstanceId)
    await worker.halt()
    fleet.region.interrupt(oldInstanceId, 45)
    // Alone, the agent launches after its share of the notice and moves the address before it ends.
    const replacement = await eventually(
      () =>
        [...fleet.region.ec2.state.instances.values()].find(
          (i) => i.tags.ParentInstance === oldInstanceId && i.tags.ReplicaId?.startsWith('local-'),
        ),
      { what: 'the replacement the agent launched on its own', timeoutMs: 60_000 },
    )
    await eventually(
      () => fleet.region.ec2.state.addresses.get(allocationId)?.instanceId === replacement.instanceId,
      {
        what: 'the Elastic IP on the replacement',
        timeoutMs: 60_000,
      },
    )
    // The control plane stays down past the notice: EC2 ends the old host with its report still queued
    // (its agent stopped with it), so only the replacement, through its tags, can tell the switch.
    await eventually(() => fleet.region.ec2.instance(oldInstanceId)?.state === 'terminated', {
      what: 'the old host terminated while the control plane is down',
      timeoutMs: 120_000,
    })
    await worker.restart()

    const { newInstanceId } = await expectInterruptionEnd(world, {
      logicalAgentId: 'agent-3',
      agentId: agent.id,
      oldInstanceId,
      allocationId,
      addressFollows: true,
      viaReplica: false,
    })
    expect(newInstanceId).toBe(replacement.instanceId)
    expect((await noticeOf(agent.id))?.action).toBe('agent_emergency_launch')
  })
})
