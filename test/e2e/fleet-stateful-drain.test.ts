/**
 * A stateful workload behind a load balancer target group (the fake ELBv2), interrupted, across real
 * processes: its agent deregisters the instance before it dies, the promoted replica joins the group,
 * and the interruption's switch shows the drain's steps. One fleet of one agent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queryD1, sql } from '../support/d1'
import { eventually } from '../support/eventually'
import { startE2eWorld, type E2eWorld } from '../support/fleet-harness'
import { registered, replicaAfterRebalance } from '../support/fleet-waits'

let world: E2eWorld

beforeAll(async () => {
  // The settings change reaches the agent by push once its socket is up, else by its config refresh.
  world = await startE2eWorld({
    agents: 1,
    agentEnv: { REBALANCE_CHECK_INTERVAL: '1', CONFIG_REFRESH_INTERVAL: '5' },
  })
})

afterAll(async () => {
  await world?.stop()
})

describe('a stateful workload behind a target group', () => {
  it('is deregistered before its interrupted instance dies, the promoted replica is registered, and its switch shows the drain', async () => {
    const startedAt = Date.now()
    const { api, fleet, client, worker } = world
    const { ec2, elbv2 } = fleet.region
    const agent = await registered(world, 'agent-1')
    const oldInstanceId = agent.instanceId!
    const arn = elbv2.addTargetGroup({
      name: 'web',
      vpcId: ec2.instance(oldInstanceId)!.vpcId,
      port: 8080,
      targets: [oldInstanceId],
    })
    // The engine off: it may move the just-promoted replica to a cheaper compatible type within seconds, and
    // that switch's own drain would deregister the replica before this test reads the group.
    await api.configure(agent.id, { stateful: true, autoSwitchEnabled: false })
    await eventually(
      () =>
        [...ec2.state.networkInterfaces.values()].some((e) => e.attachment?.instanceId === oldInstanceId)
          ? true
          : undefined,
      { what: 'the stateful mode on: the managed interface on the instance', timeoutMs: 30_000 },
    )
    const replica = await replicaAfterRebalance(world, agent.id, oldInstanceId)
    const replicaInstanceId = replica.replica.instanceId!

    fleet.region.interrupt(oldInstanceId, 30)
    const terminateAt = ec2.instance(oldInstanceId)!.terminateAt!
    await eventually(() => (ec2.instance(oldInstanceId)?.state === 'terminated' ? true : undefined), {
      what: 'the interrupted instance terminated',
      timeoutMs: 60_000,
    })

    // ELBv2's timeline: the old instance left the group before EC2 ended it; the promoted one joined.
    const left = elbv2.events.find((e) => e.kind === 'deregistering' && e.id === oldInstanceId)
    expect(left).toBeDefined()
    expect(left!.at).toBeLessThan(terminateAt)
    const joined = await eventually(
      () => elbv2.events.find((e) => e.kind === 'registered' && e.id === replicaInstanceId),
      { what: 'the promoted replica registered in the group', timeoutMs: 30_000 },
    )
    expect(joined).toMatchObject({ targetGroupArn: arn, port: 8080 })
    expect(joined.at).toBeLessThan(terminateAt)
    expect(elbv2.targetsOf(arn)).toContainEqual({ id: replicaInstanceId, port: 8080, draining: false })

    // The interruption's switch in history, its page showing the drain's steps.
    const switched = await eventually(
      async () =>
        (await api.switchHistory(client.id)).find(
          (s) => s.agentId === agent.id && s.oldInstanceId === oldInstanceId && s.trigger === 'interruption',
        ),
      { what: 'the interruption switch in history' },
    )
    expect(switched.newInstanceId).toBe(replicaInstanceId)
    const detail = await eventually(
      async () => {
        const [row] = await queryD1<{ stateful_detail: string | null }>(
          worker.persistDir,
          `select stateful_detail from switches where id = '${sql(switched.id)}'`,
        )
        return row?.stateful_detail
          ? (JSON.parse(row.stateful_detail) as { steps: { name: string; ok: boolean }[] })
          : undefined
      },
      { what: "the drain's steps on the switch", timeoutMs: 30_000 },
    )
    // Drained, then its managed interface let go for the promoted replica, which is registered in the group.
    expect(detail.steps.map((s) => [s.name, s.ok])).toEqual([
      ['deregister_targets', true],
      ['detach_volumes', true],
      ['register_targets', true],
    ])
    const page = await fetch(`${worker.url}/c/${client.id}/switches/${switched.id}`, {
      headers: { Authorization: `Bearer ${worker.adminToken}` },
    })
    const html = await page.text()
    expect(html.slice(html.indexOf('id="switch-steps"'))).toContain('data-step="deregister_targets"')
    expect(html).toContain(`${replicaInstanceId} registered in 1 target group(s)`)
    console.log(
      `fleet-stateful-drain: ${((Date.now() - startedAt) / 1000).toFixed(1)} s after the fleet started`,
    )
  })
})
