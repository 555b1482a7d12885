import { describe, expect, it } from 'vitest'
import { compatibleTypes, typeExclusion } from '../../src/engine/compatibility'
import { decide } from '../../src/engine/decide'
import { INSTANCE_TYPES, instanceTypeSpec } from '../../src/engine/instance-types'
import { DEFAULT_PARAMS, effectiveThresholds } from '../../src/engine/params'
import type { EngineInput, PoolQuote } from '../../src/engine/types'
import { NOW, poolQuote } from './arbitraries'

const HOUR = 3_600_000

/** A pool of `type` in `az`, priced against its type's shipped on-demand price. */
const pool = (type: string, az: string, price: number, extra: Partial<PoolQuote> = {}): PoolQuote =>
  poolQuote(az, price, {
    poolId: `${type}.${az}`,
    instanceType: type,
    onDemandPrice: instanceTypeSpec(type)!.onDemandUsEast1,
    ...extra,
  })

/** A workload on m5.large spot in us-east-1a at $0.040/h for 10 hours, beside the given pools. */
const onM5 = (pools: PoolQuote[], over: Partial<EngineInput> = {}): EngineInput => ({
  now: NOW,
  agent: { enabled: true, online: true, commandInFlight: false },
  current: { mode: 'spot', poolId: 'm5.large.us-east-1a', since: NOW - 10 * HOUR },
  onDemandPrice: 0.096,
  pools: [pool('m5.large', 'us-east-1a', 0.04), ...pools],
  workload: { baseType: 'm5.large' },
  switchTimes: [],
  thresholds: effectiveThresholds(DEFAULT_PARAMS),
  ...over,
})

describe('the instance-type table', () => {
  it('ships the common families in large to 2xlarge, each type once, with sizes that grow', () => {
    const names = INSTANCE_TYPES.map((t) => t.instanceType)
    expect(new Set(names).size).toBe(names.length)
    for (const family of ['m5', 'm5a', 'm6i', 'm6a', 'm7i', 'm7a', 'c5', 'c6i', 'r5', 'r6i', 't3'])
      for (const size of ['large', 'xlarge', '2xlarge'])
        expect(instanceTypeSpec(`${family}.${size}`), `${family}.${size}`).toBeDefined()
    expect(instanceTypeSpec('m5.large')).toMatchObject({ vcpus: 2, memoryGiB: 8, architecture: 'x86_64' })
    expect(instanceTypeSpec('c5.xlarge')).toMatchObject({ vcpus: 4, memoryGiB: 8 })
    expect(instanceTypeSpec('t3.medium')).toMatchObject({ vcpus: 2, memoryGiB: 4, onDemandUsEast1: 0.0416 })
    expect(instanceTypeSpec('m6g.large')?.architecture).toBe('arm64')
  })
})

describe('the type rule', () => {
  it('never mixes arm64 and x86_64, even on an allow-list', () => {
    const x86 = compatibleTypes({ baseType: 'm5.large' }).map((t) => instanceTypeSpec(t)!.architecture)
    expect(new Set(x86)).toEqual(new Set(['x86_64']))
    const arm = compatibleTypes({ baseType: 'm6g.large' }).map((t) => instanceTypeSpec(t)!.architecture)
    expect(new Set(arm)).toEqual(new Set(['arm64']))
    expect(typeExclusion('m6g.large', { baseType: 'm5.large', allowedTypes: ['m6g.large'] })).toBe(
      'architecture',
    )
  })

  it('never takes less memory or fewer vCPUs, an older generation or a burstable type for fixed cores', () => {
    const m5 = { baseType: 'm5.large' }
    expect(typeExclusion('c5.large', m5)).toBe('less_memory')
    expect(typeExclusion('m5.xlarge', { baseType: 'm5.2xlarge' })).toBe('fewer_vcpus')
    expect(typeExclusion('m5.large', { baseType: 'm6i.large' })).toBe('older_generation')
    expect(typeExclusion('t3.large', m5)).toBe('burstable')
    expect(typeExclusion('m5.large', { baseType: 't3.large' })).toBeNull()
    for (const t of ['m5a.large', 'm6i.large', 'm6a.large', 'm7i.large', 'r5.large', 'm5.xlarge'])
      expect(typeExclusion(t, m5), t).toBeNull()
    expect(compatibleTypes(m5)[0]).toBe('m5.large')
    expect(compatibleTypes(m5)).not.toContain('c5.large')
  })

  it('keeps a Nitro type from an image without ENA or NVMe drivers, unless the image has them', () => {
    expect(typeExclusion('m5.large', { baseType: 'm4.large' })).toBe('needs_ena')
    const image = { architecture: 'x86_64' as const, ena: true, nvme: false }
    expect(typeExclusion('m5.large', { baseType: 'm4.large', image })).toBe('needs_nvme')
    expect(typeExclusion('m5.large', { baseType: 'm4.large', image: { ...image, nvme: true } })).toBeNull()
  })

  it('with an allow-list takes only the listed types; an unknown type never', () => {
    const listed = { baseType: 'm5.large', allowedTypes: ['m6a.large', 'c6i.xlarge'] }
    expect(typeExclusion('m6a.large', listed)).toBeNull()
    expect(typeExclusion('c6i.xlarge', listed)).toBeNull()
    expect(typeExclusion('m5a.large', listed)).toBe('not_allowed')
    expect(typeExclusion('m5.large', listed)).toBeNull()
    expect(typeExclusion('x9.huge', { baseType: 'm5.large' })).toBe('unknown_type')
    expect(typeExclusion('m5.large', { baseType: 'x9.huge' })).toBe('unknown_base_type')
  })
})

describe('decide across instance types', () => {
  it('moves to a cheaper compatible type, never to a cheaper arm64 or smaller one, and says why', () => {
    const pools = [
      pool('m5a.large', 'us-east-1b', 0.028),
      pool('m6g.large', 'us-east-1a', 0.018),
      pool('c5.large', 'us-east-1c', 0.016),
    ]
    const d = decide(onM5(pools), DEFAULT_PARAMS)
    expect(d).toMatchObject({
      decision: 'switch_pool',
      target: { mode: 'spot', poolId: 'm5a.large.us-east-1b', instanceType: 'm5a.large', az: 'us-east-1b' },
      blocked_by: [],
    })
    expect(d.expected_savings_per_hour).toBeCloseTo(0.012, 6)
    expect(d.reasons).toContain('2 pool(s) skipped: incompatible type')
    expect(d.reasons).toContain('instance type m5a.large instead of m5.large (compatible with m5.large)')
  })

  it('honours the allow-list: a cheaper compatible type off the list is not chosen', () => {
    const pools = [pool('m5a.large', 'us-east-1b', 0.026), pool('m6a.large', 'us-east-1c', 0.03)]
    const d = decide(
      onM5(pools, { workload: { baseType: 'm5.large', allowedTypes: ['m6a.large'] } }),
      DEFAULT_PARAMS,
    )
    expect(d.target).toMatchObject({ poolId: 'm6a.large.us-east-1c', instanceType: 'm6a.large' })
    expect(d.reasons).toContain('instance type m6a.large instead of m5.large (on the allow-list)')
  })

  it("weighs a pool's price against its own type's on-demand price", () => {
    // $0.03 is 24 % of r5.large's on-demand price: safe; were its on-demand price $0.035, 86 %: too risky
    const own = decide(onM5([pool('r5.large', 'us-east-1b', 0.03)]), DEFAULT_PARAMS)
    expect(own.target?.poolId).toBe('r5.large.us-east-1b')
    const near = decide(
      onM5([pool('r5.large', 'us-east-1b', 0.03, { onDemandPrice: 0.035 })], {
        thresholds: { ...effectiveThresholds(DEFAULT_PARAMS), risk_threshold: 0.3 },
      }),
      DEFAULT_PARAMS,
    )
    expect(near.reasons).toContain('1 pool(s) skipped: above risk threshold')
  })
})
