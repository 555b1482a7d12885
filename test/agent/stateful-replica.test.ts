import { afterEach, describe, expect, it } from 'vitest'
import { runAgent } from '../../agent/src/agent'
import { createImds } from '../../agent/src/imds'
import { establishInventory } from '../../agent/src/actions/stateful/inventory'
import { releaseStatefulParts } from '../../agent/src/actions/stateful/restore-release'
import { imdsFor, type FakeImds } from '../fakes'
import { actionContext } from './support/context'
import { recordingHttp } from './support/http'
import { clock, ec2, useSeededEc2, w } from './support/seeded-ec2'
import { elbv2, seedStandby, statefulConfig, useFakeElbv2 } from './support/stateful'

useSeededEc2({ lifecycle: 'spot', az: 'us-east-1a' })
useFakeElbv2()
let imds: FakeImds | null = null
afterEach(async () => {
  await imds?.close()
  imds = null
})

/** What changes EC2's volumes, interfaces or tags. */
const CHANGES = [
  'CreateTags',
  'AttachVolume',
  'DetachVolume',
  'CreateVolume',
  'AttachNetworkInterface',
  'DetachNetworkInterface',
  'CreateNetworkInterface',
]

/**
 * The agent bundle's loop in process on the standby instance, against the fakes, until the control plane
 * answered its registration `standbyAnswers` times with 409 standby (the primary still runs).
 */
async function runStandbyAgent(instanceId: string, standbyAnswers: number) {
  imds = await imdsFor(ec2, instanceId, { elbv2 })
  const stop = new AbortController()
  let registrations = 0
  const http = recordingHttp([
    (c) => {
      if (!c.path.endsWith('/register')) return undefined
      if (++registrations >= standbyAnswers) stop.abort()
      return {
        status: 409,
        body: { action: 'standby', replica_id: 'rep-standby', retry_after_seconds: 5 },
      }
    },
  ])
  // The action tests' wiring (fake EC2 and ELBv2, no host), on an agent that knows no agent id yet.
  const { ctx } = actionContext(ec2, { ...w, instanceId }, clock, { http, elbv2, signal: stop.signal })
  ctx.link.agentId = null
  await runAgent(
    {
      config: ctx.config,
      imds: createImds(imds.url, clock),
      ec2: () => ctx.ec2,
      elbv2: () => ctx.elbv2,
      host: ctx.host,
      pricing: () => ({
        spotPrices: () => Promise.reject(new Error('no pricing before registration')),
        onDemandPrice: () => Promise.reject(new Error('no pricing before registration')),
      }),
      link: ctx.link,
      state: ctx.state,
      clock,
      log: ctx.log,
    },
    stop.signal,
  )
  return { http, registrations: () => registrations }
}

describe('a standby replica of a stateful workload', () => {
  it('never takes the live data volume or the managed interface, even when they are free, nor claims its own copy', async () => {
    // The workload: its live data volume and managed interface (stateful inventory on the primary).
    const live = ec2.seed.addVolume({ instanceId: w.instanceId, device: '/dev/sdf', size: 20 })
    const primary = actionContext(ec2, w, clock, { elbv2, agentConfig: statefulConfig() })
    const { iface } = await establishInventory(primary.ctx)
    ec2.workloadWrite(w.instanceId, '/dev/sdf', 'order 1')
    // Its standby in the same AZ, with the copy of /dev/sdf its image gave it.
    const { standby, copy } = seedStandby('us-east-1a', w.instanceId)
    ec2.settle()
    // The primary's notice released both (the moment before a promotion): free, in the standby's AZ.
    expect(await releaseStatefulParts(primary.ctx, clock.now() + 100_000)).toMatchObject([{ ok: true }])
    const copyTags = { ...ec2.state.volumes.get(copy)!.tags }
    const liveTags = { ...ec2.state.volumes.get(live)!.tags }
    const from = ec2.requests.length

    const agent = await runStandbyAgent(standby, 3)

    // The agent asked three times, was told it is a standby each time, and did nothing else.
    expect(agent.registrations()).toBe(3)
    expect(agent.http.calls.map((c) => c.path)).toEqual(Array(3).fill('/api/agents/register'))
    // EC2 holds the workload's parts where the primary left them, the copy untouched and not claimed.
    expect(ec2.requests.slice(from).filter((r) => CHANGES.includes(r.action))).toEqual([])
    expect(ec2.state.volumes.get(live)).toMatchObject({ state: 'available', tags: liveTags })
    expect(ec2.state.volumes.get(live)!.attachment).toBeUndefined()
    expect(ec2.state.networkInterfaces.get(iface!.eniId)!.attachment).toBeUndefined()
    expect(ec2.state.volumes.get(copy)!.attachment).toMatchObject({ instanceId: standby, device: '/dev/sdf' })
    expect(ec2.state.volumes.get(copy)!.tags).toEqual(copyTags)
    expect(copyTags.SpotGuardRole).toBeUndefined()
    expect(
      [...ec2.state.networkInterfaces.values()].filter((i) => i.attachment?.instanceId === standby),
    ).toEqual([])
  })
})
