import { describe, expect, it } from 'vitest'
import { typeExclusion } from '../../src/engine/compatibility'
import { MAX_PRICED_TYPES, pricedTypes, workloadOf } from '../../src/engine/workload'

const modern = {
  agentVersion: '5.0.0',
  baseInstanceType: 'm5.large',
  allowedInstanceTypes: null,
  imageArchitecture: null,
  imageEnaSupport: null,
}

describe('the workload of an agent', () => {
  it('keeps the base type it started on after a move to another type', () => {
    expect(workloadOf(modern, 'm6a.large')).toEqual({ baseType: 'm5.large', allowedTypes: null })
    // Not known yet (an agent registered before the column): the type it runs.
    expect(workloadOf({ ...modern, baseInstanceType: null }, 'm6a.large').baseType).toBe('m6a.large')
  })

  it('holds an installed agent to the type it runs: it cannot launch another', () => {
    const w = workloadOf({ ...modern, agentVersion: '4.0.0' }, 'm5.large')
    expect(typeExclusion('m5a.large', w)).toBe('not_allowed')
    expect(pricedTypes(w, 'm5.large')).toEqual(['m5.large'])
  })

  it('prices the current and base type first, then compatible types near the base price, at most 8', () => {
    const types = pricedTypes(workloadOf(modern, 'm6a.large'), 'm6a.large')
    expect(types.slice(0, 2)).toEqual(['m6a.large', 'm5.large'])
    expect(types).toContain('m5a.large')
    expect(types).not.toContain('m5.2xlarge') // four times the price
    expect(types).not.toContain('m6g.large') // arm64
    expect(types.length).toBeLessThanOrEqual(MAX_PRICED_TYPES)
  })

  it('takes an allow-list as given (boot limits still hold)', () => {
    const w = workloadOf({ ...modern, allowedInstanceTypes: ['m5.2xlarge', 'm6g.large'] }, 'm5.large')
    expect(pricedTypes(w, 'm5.large')).toEqual(['m5.large', 'm5.2xlarge'])
  })

  it('prices only its own type when the table does not know it', () => {
    expect(pricedTypes(workloadOf({ ...modern, baseInstanceType: 'x9.huge' }, 'x9.huge'), 'x9.huge')).toEqual(
      ['x9.huge'],
    )
  })

  it("takes what its image boots from its agent's DescribeImages, else from its base type", () => {
    const onM4 = { ...modern, baseInstanceType: 'm4.large' }
    const described = (ena: boolean) =>
      workloadOf({ ...onM4, imageArchitecture: 'x86_64', imageEnaSupport: ena }, 'm4.large')
    expect(described(true).image).toEqual({ architecture: 'x86_64', ena: true, nvme: true })
    expect(pricedTypes(described(true), 'm4.large')).toContain('m5.large')
    expect(typeExclusion('m5.large', described(false))).toBe('needs_ena')
    expect(typeExclusion('m6g.large', described(true))).toBe('architecture')
    // Not described: running on m4 proves no ENA driver.
    expect(workloadOf(onM4, 'm4.large').image).toBeUndefined()
    expect(pricedTypes(workloadOf(onM4, 'm4.large'), 'm4.large')).toEqual(['m4.large'])
  })
})
