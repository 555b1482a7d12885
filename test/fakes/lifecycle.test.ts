import { describe, expect, it } from 'vitest'
import { manualClock } from './clock'
import { createInstance } from './ec2/actions/launch'
import { advance, beginTermination, settle, tick } from './ec2/lifecycle'
import { DEFAULT_DURATIONS, createState, type Ec2State } from './ec2/model'

function world() {
  const clock = manualClock(1_000_000)
  const state = createState({
    region: 'us-east-1',
    accountId: '123456789012',
    zones: ['us-east-1a'],
    clock,
    durations: DEFAULT_DURATIONS,
  })
  state.subnets.set('subnet-1', {
    subnetId: 'subnet-1',
    vpcId: 'vpc-1',
    az: 'us-east-1a',
    cidr: '10.0.1.0/24',
    mapPublicIp: false,
    tags: {},
  })
  return { clock, state }
}

function launch(state: Ec2State) {
  return createInstance(state, {
    imageId: 'ami-1',
    instanceType: 't3.micro',
    subnet: state.subnets.get('subnet-1')!,
    securityGroupIds: [],
    tags: {},
    lifecycle: 'spot',
  })
}

describe('the fake EC2 state machine', () => {
  it('runs pending → running (initializing) → ok on the clock, not before', () => {
    const { clock, state } = world()
    const i = launch(state)
    clock.advance(4_999)
    tick(state)
    expect([i.state, i.status]).toEqual(['pending', 'not-applicable'])
    clock.advance(1)
    tick(state)
    expect([i.state, i.status, i.stateSince]).toEqual(['running', 'initializing', 1_005_000])
    clock.advance(19_999)
    tick(state)
    expect(i.status).toBe('initializing')
    clock.advance(1)
    tick(state)
    expect(i.status).toBe('ok')
  })

  it('chains every due transition after a long jump of the clock', () => {
    const { clock, state } = world()
    const i = launch(state)
    clock.advance(3_600_000)
    tick(state)
    expect([i.state, i.status]).toEqual(['running', 'ok'])
    beginTermination(state, i)
    clock.advance(3_600_000)
    tick(state)
    expect(i.state).toBe('terminated')
  })

  it('steps one resource at a time with advance, and settles everything', () => {
    const { state } = world()
    const a = launch(state)
    const b = launch(state)
    expect(advance(state, a.instanceId)).toBe(true)
    expect([a.state, b.state]).toEqual(['running', 'pending'])
    advance(state, a.instanceId)
    expect(a.status).toBe('ok')
    expect(advance(state, a.instanceId)).toBe(false)
    settle(state)
    expect([b.state, b.status]).toEqual(['running', 'ok'])
  })

  it('terminates at a scheduled time (spot reclaim) with the reason EC2 gives, and frees the Elastic IP', () => {
    const { clock, state } = world()
    const i = launch(state)
    settle(state)
    state.addresses.set('eipalloc-1', {
      allocationId: 'eipalloc-1',
      publicIp: '3.3.3.3',
      instanceId: i.instanceId,
      associationId: 'a',
      tags: {},
    })
    i.terminateAt = clock.now() + 120_000
    clock.advance(119_000)
    tick(state)
    expect(i.state).toBe('running')
    clock.advance(1_000)
    tick(state)
    expect(i.state).toBe('shutting-down')
    expect(i.stateReason?.code).toBe('Server.SpotInstanceTermination')
    expect(state.addresses.get('eipalloc-1')?.instanceId).toBeUndefined()
    settle(state)
    expect(i.state).toBe('terminated')
  })

  it('keeps the previous state for a second termination', () => {
    const { state } = world()
    const i = launch(state)
    expect(beginTermination(state, i)).toBe('pending')
    expect(beginTermination(state, i)).toBe('shutting-down')
  })

  it('tells launch listeners about each new instance', () => {
    const { state } = world()
    const seen: string[] = []
    state.launchListeners.push((i) => seen.push(i.instanceId))
    const i = launch(state)
    expect(seen).toEqual([i.instanceId])
  })
})
