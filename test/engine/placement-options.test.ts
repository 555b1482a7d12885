import { describe, expect, it } from 'vitest'
import { AllowedInstanceTypes, unbootableTypes } from '../../src/engine/allow-list'
import type { SkipReason } from '../../src/engine/decide'
import { optionWords } from '../../src/engine/option-words'
import { placementOptions, type OptionsInput } from '../../src/engine/placement-options'
import { workloadOf } from '../../src/engine/workload'

const pool = (type: string, az: string, price: number | null) => ({
  poolId: `${type}.${az}`,
  instanceType: type,
  az,
  price,
})

/** What a decision saw of each pool: `[pool id, risk, skipped]` (skipped absent: stored before it was). */
const seen = (entries: [string, number, SkipReason | null | undefined][]) =>
  new Map(
    entries.map(([id, risk, skipped]) => [id, skipped === undefined ? { risk } : { risk, skipped }] as const),
  )

/** A workload on m5.large spot in zone a, in a region of m5, m6i, c5 and m6g pools. */
const market = (over: Partial<OptionsInput> = {}): OptionsInput => ({
  workload: { baseType: 'm5.large', allowedTypes: null },
  current: { mode: 'spot', poolId: 'm5.large.a' },
  pools: [
    pool('m5.large', 'a', 0.04),
    pool('m5.large', 'b', 0.035),
    pool('m6i.large', 'a', 0.03),
    pool('m6i.large', 'b', 0.05),
    pool('c5.large', 'a', 0.02),
    pool('m6g.large', 'a', 0.01),
  ],
  azs: ['a', 'b'],
  onDemand: new Map([
    ['m5.large', 0.096],
    ['m6i.large', 0.096],
  ]),
  decision: {
    decision: 'stay',
    targetMode: 'spot',
    targetPoolId: 'm6i.large.a',
    blockedBy: ['min_pool_duration'],
    at: 0,
    riskCap: 0.3,
    pools: seen([
      ['m5.large.a', 0.1, 'current'],
      ['m5.large.b', 0.45, 'above_risk_threshold'],
      ['m6i.large.a', 0.12, null],
      ['m6i.large.b', 0.1, null],
    ]),
  },
  ...over,
})

const byPool = (rows: ReturnType<typeof placementOptions>) =>
  Object.fromEntries(rows.map((r) => [`${r.instanceType}.${r.az}`, r]))

describe('the instance page options', () => {
  it('says for each type and AZ whether it is the placement, the pick, weighed, skipped or excluded by type', () => {
    const rows = byPool(placementOptions(market()))
    expect(rows['m5.large.a']!.why).toEqual({ kind: 'current' })
    expect(rows['m6i.large.a']!.why).toEqual({
      kind: 'pick',
      decision: 'stay',
      blockedBy: ['min_pool_duration'],
    })
    expect(rows['m6i.large.b']!.why).toEqual({ kind: 'weighed' })
    expect(rows['m5.large.b']!.why).toEqual({ kind: 'skipped', reason: 'above_risk_threshold', riskCap: 0.3 })
    expect(rows['c5.large.a']!.why).toEqual({ kind: 'type', exclusion: 'less_memory' })
    expect(rows['m6g.large.a']!.why).toEqual({ kind: 'type', exclusion: 'architecture' })
    expect(rows['m6i.large.a']).toMatchObject({ spot: 0.03, onDemand: 0.096, risk: 0.12 })
  })

  it('puts the current placement first, then the pick, the weighed and the skipped pools, the type exclusions last', () => {
    const kinds = placementOptions(market()).map((r) => r.why.kind)
    expect(kinds.slice(0, 4)).toEqual(['current', 'pick', 'weighed', 'skipped'])
    expect(kinds.at(-1)).toBe('type')
  })

  it('lists an allowed type without a pool as having no price yet in each AZ, after the priced pools', () => {
    const rows = placementOptions(market({ workload: { baseType: 'm5.large', allowedTypes: ['m7i.large'] } }))
    expect(rows.slice(0, 4).map((r) => r.why.kind)).toEqual(['current', 'skipped', 'no_price', 'no_price'])
    const m7i = rows.filter((r) => r.instanceType === 'm7i.large')
    expect(m7i.map((r) => [r.az, r.poolId, r.why.kind])).toEqual([
      ['a', null, 'no_price'],
      ['b', null, 'no_price'],
    ])
    // m6i is off the list now: a type reason, whatever the last decision saw.
    expect(byPool(rows)['m6i.large.a']!.why).toEqual({ kind: 'type', exclusion: 'not_allowed' })
  })

  it('shows a pool the latest decision did not see, or saw under other settings, as not weighed yet', () => {
    const rows = byPool(
      placementOptions(
        market({
          pools: [...market().pools, pool('m7i.large', 'a', 0.033)],
          decision: { ...market().decision!, pools: seen([['m5.large.a', 0.1, 'incompatible_type']]) },
          current: { mode: 'spot', poolId: 'm5.large.b' },
        }),
      ),
    )
    expect(rows['m7i.large.a']!.why).toEqual({ kind: 'not_weighed' })
    expect(rows['m5.large.a']!.why).toEqual({ kind: 'not_weighed' })
    expect(rows['m5.large.b']!.why).toEqual({ kind: 'current' })
  })

  it('tells a risk above the cap from the stored risk of a decision stored before skip reasons were', () => {
    const old = market().decision!
    const rows = byPool(
      placementOptions(
        market({
          decision: {
            ...old,
            pools: seen([
              ['m5.large.b', 0.45, undefined],
              ['m6i.large.b', 0.1, undefined],
            ]),
          },
        }),
      ),
    )
    expect(rows['m5.large.b']!.why).toMatchObject({ kind: 'skipped', reason: 'above_risk_threshold' })
    expect(rows['m6i.large.b']!.why).toEqual({ kind: 'weighed' })
  })

  it('keeps a legacy agent on its own type whatever its allow-list', () => {
    const workload = workloadOf(
      {
        agentVersion: '4.0.0',
        baseInstanceType: 'm5.large',
        allowedInstanceTypes: ['m6i.large'],
        imageArchitecture: null,
        imageEnaSupport: null,
      },
      'm5.large',
    )
    const rows = byPool(placementOptions(market({ workload })))
    expect(rows['m6i.large.a']!.why).toEqual({ kind: 'type', exclusion: 'not_allowed' })
    expect(rows['m5.large.a']!.why).toEqual({ kind: 'current' })
  })
})

describe('the allow-list', () => {
  it('takes shipped types only, at least one, duplicates dropped', () => {
    expect(AllowedInstanceTypes.parse(['m6i.large', ' m6i.large', 'm5a.large'])).toEqual([
      'm6i.large',
      'm5a.large',
    ])
    expect(AllowedInstanceTypes.safeParse([]).success).toBe(false)
    const unknown = AllowedInstanceTypes.safeParse(['m6i.large', 'x9.huge'])
    expect(unknown.success).toBe(false)
    expect(unknown.error?.issues[0]?.path).toEqual([1])
  })

  it('names each type the image cannot boot: another architecture, or ENA/NVMe an old image lacks', () => {
    expect(unbootableTypes(['m6i.large', 'm6g.large'], { baseType: 'm5.large' })).toEqual([
      { index: 1, message: "m6g.large is arm64; the workload's image boots x86_64" },
    ])
    // An m4 (Xen) image proves neither driver.
    const problems = unbootableTypes(['m4.large', 'm5.large'], { baseType: 'm4.large' })
    expect(problems).toEqual([
      { index: 1, message: "m5.large needs the ENA driver, which the workload's image lacks" },
    ])
    // Size and generation are the person's choice on a list.
    expect(unbootableTypes(['c5.large', 'm4.large'], { baseType: 'm5.large' })).toEqual([])
  })
})

describe('the options of a stateful workload', () => {
  it('keeps it to its AZ: every other AZ says its data volumes stay, priced or not, last in the table', () => {
    const input = market({ statefulAz: 'a', azs: ['a', 'b', 'c'] })
    const list = placementOptions(input)
    const rows = byPool(list)
    const agent = { workload: input.workload, agentVersion: '5.0.0' }
    for (const id of ['m5.large.b', 'm6i.large.b', 'm5.large.c']) {
      expect(rows[id]!.why).toEqual({ kind: 'stateful', az: 'a' })
      expect(optionWords(rows[id]!, agent)).toBe('stateful: data volumes stay in a')
    }
    // Its own AZ is judged as before, and the other AZs come last.
    expect(rows['m5.large.a']!.why).toEqual({ kind: 'current' })
    expect(rows['m6i.large.a']!.why.kind).toBe('pick')
    expect(list.at(-1)!.why.kind).toBe('stateful')
  })

  it('shows a pool skipped for another AZ while stateful as not weighed yet once the agent is stateless', () => {
    const base = market()
    const pools = new Map(base.decision!.pools)
    pools.set('m6i.large.b', { risk: 0.1, skipped: 'stateful_other_az' })
    const rows = byPool(placementOptions(market({ decision: { ...base.decision!, pools } })))
    expect(rows['m6i.large.b']!.why).toEqual({ kind: 'not_weighed' })
  })
})

describe('the options’ capacity', () => {
  it('says a pool the latest decision saw short of capacity is so, with its placement score', () => {
    const base = market()
    const decision = base.decision!
    const pools = new Map(decision.pools)
    pools.set('m5.large.b', { risk: 0.6, skipped: 'above_risk_threshold', placementScore: 1 })
    pools.set('m6i.large.b', { risk: 0.1, skipped: null, placementScore: 9 })
    const rows = byPool(placementOptions(market({ decision: { ...decision, pools } })))
    const agent = { workload: base.workload, agentVersion: '5.0.0' }
    expect(rows['m5.large.b']).toMatchObject({ placementScore: 1, risk: 0.6 })
    expect(optionWords(rows['m5.large.b']!, agent)).toBe(
      'skipped: risk 0.60 above the cap 0.3 (spot placement score 1/10: little capacity)',
    )
    // A score with capacity to spare, or none at all, adds nothing.
    expect(optionWords(rows['m6i.large.b']!, agent)).toBe(
      'weighed: less value than the engine’s pick or the current placement',
    )
    expect(rows['m6i.large.a']!.placementScore).toBeNull()
  })
})
