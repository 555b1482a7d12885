/**
 * Identity as on real EC2, across real processes: instances boot from images with the files they carry
 * (docs/simulator.md). A workload installed without a logical id and without a tag switches pools and
 * stays ONE agent; a cloned in-flight switch is reset on the new instance; a replica's agent boots at
 * once, stays passive while the primary runs and becomes the workload's agent once promoted.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queryD1, sql } from '../support/d1'
import { eventually } from '../support/eventually'
import { startE2eWorld, type E2eWorld } from '../support/fleet-harness'
import { finished, registered, replicaAfterRebalance } from '../support/fleet-waits'

let world: E2eWorld

beforeAll(async () => {
  world = await startE2eWorld({
    agents: 2,
    // agent-1 as installed before SpotGuard tagged anything: no tag and (golden env) no LOGICAL_AGENT_ID.
    workloadTags: (id): Record<string, string> =>
      id === 'agent-1' ? { Name: id } : { LogicalAgentId: id, Name: id },
    agentEnv: { REBALANCE_CHECK_INTERVAL: '1', SPOTGUARD_LOG_LEVEL: 'debug' },
  })
})

afterAll(async () => {
  await world?.stop()
})

/** The JSON lines an instance's agent logged so far. */
function agentLog(instanceId: string): Array<Record<string, unknown> & { msg: string }> {
  const file = join(world.fleet.supervisor.instanceDir(instanceId), 'agent.log')
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown> & { msg: string }]
      } catch {
        return []
      }
    })
}

const seeded = (name: string) =>
  world.fleet.region.hosts().find((h) => h.tags.Name === name && h.state === 'running')!.instanceId

describe('identity as on EC2', () => {
  it('keeps a workload installed without --logical-id one agent across a switch: history on it, no ghost, the cloned switch not resumed', async () => {
    const { api, fleet, client, worker } = world
    const oldInstanceId = seeded('agent-1')
    // No tag, no env: the agent is known by the instance it was installed on.
    const agent = await registered(world, oldInstanceId)
    await registered(world, 'agent-2')
    await api.configure(agent.id, { autoTerminateEnabled: true, terminateWaitSeconds: 3 })
    const oldAz = fleet.region.ec2.instance(oldInstanceId)!.az
    const targetAz = fleet.region.zones.find((az) => az !== oldAz)!
    await eventually(
      async () =>
        (
          await queryD1(
            worker.persistDir,
            `select 1 from price_quotes where series = 't3.medium.${targetAz}'`,
          )
        ).length > 0,
      {
        what: 'the target pool priced',
        timeoutMs: 30_000,
      },
    )

    const queued = await api.forceSwitch(oldInstanceId, { target: 'pool', pool_id: `t3.medium.${targetAz}` })
    await finished(world, queued.command_id!)
    const history = await eventually(
      async () => (await api.switchHistory(client.id)).find((s) => s.commandId === queued.command_id),
      { what: 'the switch in history' },
    )
    const newInstanceId = history.newInstanceId!
    expect(history.agentId).toBe(agent.id)

    // The new instance booted from the switch's AMI: the tag the switch put on it names the workload.
    const moved = await eventually(
      async () => {
        const row = await api.agent(client.id, oldInstanceId)
        return row?.instanceId === newInstanceId && row.status === 'online' ? row : undefined
      },
      { what: 'the same agent online on the new instance', timeoutMs: 60_000 },
    )
    expect(moved.id).toBe(agent.id)
    // Its agent waited (standby) until the switch report moved the workload, then registered.
    const lines = await eventually(
      () => {
        const log = agentLog(newInstanceId)
        return log.some((l) => l.msg === 'registered') ? log : undefined
      },
      { what: "the new instance's agent registered", timeoutMs: 30_000 },
    )
    expect(lines.find((l) => l.msg === 'logical identity')).toMatchObject({
      logical_agent_id: oldInstanceId,
      source: 'tag',
      tags_via: 'ec2',
    })
    // The AMI was made while the switch ran: its copy of the state is reset, the switch not resumed.
    expect(
      lines.find((l) => l.msg === 'state copied from another instance (through an image) was reset'),
    ).toMatchObject({
      from: oldInstanceId,
      dropped: { inflight: 1 },
    })
    const disk = fleet.region.hosts().find((h) => h.instanceId === newInstanceId)!.disk!
    expect(JSON.parse(readFileSync(join(disk, 'var/lib/spotguard/state.json'), 'utf8'))).toMatchObject({
      instanceId: newInstanceId,
      logicalAgentId: oldInstanceId,
    })

    await eventually(() => fleet.region.ec2.instance(oldInstanceId)?.state === 'terminated', {
      what: 'the old instance terminated after the wait',
      timeoutMs: 60_000,
    })
    const launched = [...fleet.region.ec2.state.instances.values()].filter(
      (i) => i.tags.LogicalAgentId === oldInstanceId && i.instanceId !== oldInstanceId,
    )
    expect(launched.map((i) => i.instanceId)).toEqual([newInstanceId])
    // One agent per workload in D1, no ghost registered from the new instance.
    const agents = await queryD1<{ logical_agent_id: string; instance_id: string }>(
      worker.persistDir,
      `select logical_agent_id, instance_id from agents where client_id = '${sql(client.id)}' order by logical_agent_id`,
    )
    expect(agents.map((a) => a.logical_agent_id).sort()).toEqual(['agent-2', oldInstanceId].sort())
    // Verified on each instance by its own signed document: one agent token per instance, and the new
    // instance's state holds its own (not the copied one of the old instance).
    const tokens = await queryD1<{ instance_id: string; identity: string }>(
      worker.persistDir,
      `select t.instance_id, a.identity from agent_tokens t join agents a on a.id = t.agent_id where a.id = '${sql(agent.id)}' order by t.created_at`,
    )
    expect(tokens).toEqual([
      { instance_id: oldInstanceId, identity: 'verified' },
      { instance_id: newInstanceId, identity: 'verified' },
    ])
    const held = JSON.parse(readFileSync(join(disk, 'var/lib/spotguard/state.json'), 'utf8')).agentToken
    const [own] = await queryD1<{ token_hash: string }>(
      worker.persistDir,
      `select token_hash from agent_tokens where instance_id = '${sql(newInstanceId)}'`,
    )
    expect(createHash('sha256').update(held).digest('hex')).toBe(own!.token_hash)
    expect(
      (await api.switchHistory(client.id))
        .filter((s) => s.agentId === agent.id)
        .map((s) => [s.oldInstanceId, s.newInstanceId]),
    ).toEqual([[oldInstanceId, newInstanceId]])
  })

  it('boots a replica with its agent, passive while the primary runs, and makes it the workload once promoted', async () => {
    const { api, fleet, client, worker } = world
    const agent = await registered(world, 'agent-2')
    const primary = agent.instanceId!
    const row = await replicaAfterRebalance(world, agent.id, primary)
    const replica = row.replica.instanceId!

    // Its agent booted with the instance and is refused again and again while the primary runs.
    await eventually(() => fleet.supervisor.running().some((r) => r.instanceId === replica), {
      what: 'the replica agent booted',
      timeoutMs: 30_000,
    })
    await eventually(
      () => agentLog(replica).filter((l) => l.msg === 'standby replica: not promoted yet').length >= 2,
      {
        what: 'the replica agent refused three times',
        timeoutMs: 60_000,
      },
    )
    const passive = agentLog(replica)
    expect(passive.find((l) => l.msg === 'logical identity')).toMatchObject({
      logical_agent_id: 'agent-2',
      replica_id: row.replica.id,
    })
    for (const msg of ['registered', 'heartbeat', 'push socket open', 'notice handled'])
      expect(passive.some((l) => l.msg === msg)).toBe(false)
    const imds = fleet.region.imdsOf(replica)!
    expect(
      imds.requests.some((r) =>
        /spot\/instance-action|recommendations\/rebalance|maintenance\/scheduled/.test(r.path),
      ),
    ).toBe(false)
    expect((await api.agent(client.id, 'agent-2'))?.instanceId).toBe(primary)
    expect(
      await queryD1(worker.persistDir, `select 1 from instances where instance_id = '${sql(replica)}'`),
    ).toEqual([])

    const promoted = await api.call(
      'POST',
      `/api/client/agents/${agent.id}/replicas/${row.replica.id}/promote`,
      {},
    )
    expect(promoted.status).toBe(200)
    await eventually(
      () => agentLog(replica).some((l) => l.msg === 'registered' && l.instance_id === replica),
      { what: 'the promoted replica registered', timeoutMs: 60_000 },
    )
    const now = await eventually(
      async () => {
        const a = await api.agent(client.id, 'agent-2')
        return a?.instanceId === replica && a.status === 'online' ? a : undefined
      },
      { what: 'agent-2 online on its replica' },
    )
    expect(now.id).toBe(agent.id)
    await eventually(() => agentLog(replica).some((l) => l.msg === 'heartbeat'), {
      what: 'heartbeats from the promoted replica',
    })
    // The old primary's agent stepped down; EC2 moved the workload's address to the replica.
    await eventually(() => agentLog(primary).some((l) => l.msg === 'agent retires on this instance'), {
      what: 'the old primary retired',
    })
    expect(
      [...fleet.region.ec2.state.addresses.values()].filter((a) => a.instanceId === replica),
    ).toHaveLength(1)
    expect(fleet.primaryOf('agent-2')).toBe(replica)
  })
})
