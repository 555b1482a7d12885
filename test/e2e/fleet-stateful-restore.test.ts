/**
 * A stateful workload interrupted without a replica, across real processes (issue 15, item 3): the
 * control plane places its replacement in the workload's own AZ (spot of a compatible type there, the
 * interrupted pool excluded), the dying agent lets go of its data volume and address after its drain, and
 * the replacement's agent reattaches them. Followed
 * to the switch in history with its data loss bound on the switch page, and to what EC2 holds: the data
 * volume, with the last write, on the replacement at the same device. Behind a target group (the fake
 * ELBv2), the dying instance leaves it before EC2 ends it and the replacement joins it once its data is
 * back (told by the control plane, which holds the drain's groups), its `register_targets` on the switch.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { eventually } from '../support/eventually'
import { startE2eWorld, type E2eWorld } from '../support/fleet-harness'
import { registered } from '../support/fleet-waits'
import { expectInterruptionEnd } from '../support/interruption-end'
import { DATA_DEVICE, statefulWorkload } from '../support/stateful-workload'

let world: E2eWorld

beforeAll(async () => {
  // The settings change reaches the agent by push once its socket is up, else by its config refresh.
  world = await startE2eWorld({ agents: 1, agentEnv: { CONFIG_REFRESH_INTERVAL: '5' } })
})

afterAll(async () => {
  await world?.stop()
})

it('an interruption without a replica: the replacement in the same AZ takes the data volume back, no loss shown, and joins the target group', async () => {
  const startedAt = Date.now()
  const { fleet, worker, client } = world
  const { ec2, elbv2 } = fleet.region
  const agent = await registered(world, 'agent-1')
  const oldInstanceId = agent.instanceId!
  const az = ec2.instance(oldInstanceId)!.az
  const arn = elbv2.addTargetGroup({
    name: 'db',
    vpcId: ec2.instance(oldInstanceId)!.vpcId,
    port: 5432,
    targets: [oldInstanceId],
  })
  // Auto-switch off: the engine would move the replacement to a cheaper pool within the test.
  const { dataVolumeId: data, eni } = await statefulWorkload(world, agent, {
    rpoMinutes: 15,
    autoSwitchEnabled: false,
  })
  ec2.workloadWrite(oldInstanceId, DATA_DEVICE, 'order 1')
  const lastWrite = ec2.workloadWrite(oldInstanceId, DATA_DEVICE, 'order 2')
  const allocationId = [...ec2.state.addresses.values()].find(
    (a) => a.instanceId === oldInstanceId,
  )!.allocationId

  fleet.region.interrupt(oldInstanceId, 40)
  const terminateAt = ec2.instance(oldInstanceId)!.terminateAt!
  const { newInstanceId } = await expectInterruptionEnd(world, {
    logicalAgentId: 'agent-1',
    agentId: agent.id,
    oldInstanceId,
    allocationId,
    addressFollows: true,
    viaReplica: true,
    newMode: 'spot',
  })

  expect(ec2.instance(newInstanceId)!.az).toBe(az)
  // What EC2 holds: the data volume on the replacement at its device, with the last write; the address too.
  await eventually(
    () => {
      const a = ec2.state.volumes.get(data)?.attachment
      return (a?.instanceId === newInstanceId && a.state === 'attached') || undefined
    },
    { what: 'the data volume attached to the replacement', timeoutMs: 60_000 },
  )
  expect(ec2.state.volumes.get(data)!.attachment!.device).toBe(DATA_DEVICE)
  expect(ec2.volumeContent(data).at(-1)).toEqual(lastWrite)
  expect(ec2.state.networkInterfaces.get(eni.networkInterfaceId)).toMatchObject({
    privateIp: eni.privateIp,
    attachment: { instanceId: newInstanceId, deviceIndex: 1 },
  })
  // What the user sees: the switch in history with its loss bound, and the page naming the reattached volume.
  const switched = await eventually(
    async () => {
      const [row] = (await world.api.switchHistory(client.id)).filter(
        (s) => s.oldInstanceId === oldInstanceId,
      )
      return row
    },
    { what: 'the interruption switch' },
  )
  const page = await eventually(
    async () => {
      const html = await (await worker.admin(`/c/${client.id}/switches/${switched.id}`)).text()
      return html.includes('id="data-loss"') ? html : undefined
    },
    { what: 'the stateful record on the switch page', timeoutMs: 30_000 },
  )
  expect(page.slice(page.indexOf('id="data-loss"'))).toContain('<strong>no loss</strong>')
  expect(page).toContain('reattached')
  expect(page).toContain(data)

  // ELBv2: the old instance left the group before EC2 ended it; the replacement joined after its data was
  // back, serving (not draining), and the switch page shows the registration with the drain's steps.
  const left = elbv2.events.find((e) => e.kind === 'deregistering' && e.id === oldInstanceId)
  expect(left?.at).toBeLessThan(terminateAt)
  const joined = await eventually(
    () => elbv2.events.find((e) => e.kind === 'registered' && e.id === newInstanceId),
    { what: 'the replacement registered in the group', timeoutMs: 30_000 },
  )
  expect(joined).toMatchObject({ targetGroupArn: arn, port: 5432 })
  expect(elbv2.targetsOf(arn)).toContainEqual({ id: newInstanceId, port: 5432, draining: false })
  const steps = await eventually(
    async () => {
      const html = await (await worker.admin(`/c/${client.id}/switches/${switched.id}`)).text()
      return html.includes(`${newInstanceId} registered in 1 target group(s)`) ? html : undefined
    },
    { what: 'register_targets on the switch page', timeoutMs: 30_000 },
  )
  const shown = steps.slice(steps.indexOf('id="switch-steps"'))
  expect(shown.indexOf('data-step="deregister_targets"')).toBeGreaterThan(-1)
  expect(shown.indexOf('data-step="register_targets"')).toBeGreaterThan(
    shown.indexOf('data-step="attach_volumes"'),
  )
  console.log(
    `fleet-stateful-restore: ${((Date.now() - startedAt) / 1000).toFixed(1)} s after the fleet started`,
  )
})
