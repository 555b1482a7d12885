import { describe, expect, it } from 'vitest'
import { planElection, type Candidate, type Reporter } from '../../src/prices/reporters'

const NOW = 1_800_000_000_000

function agent(agentId: string, overrides: Partial<Candidate> = {}): Candidate {
  return {
    agentId,
    clientId: 'cli_a',
    region: 'us-east-1',
    instanceType: 't3.medium',
    agentVersion: '5.0.0',
    status: 'online',
    identity: 'unverified',
    createdAt: Number(agentId.replace(/\D/g, '')),
    ...overrides,
  }
}

function reporter(agentId: string, overrides: Partial<Reporter> = {}): Reporter {
  return {
    clientId: 'cli_a',
    region: 'us-east-1',
    instanceType: 't3.medium',
    agentId,
    electedAt: 0,
    ...overrides,
  }
}

describe('planElection', () => {
  it('keeps a reporter that can report, even when an older agent comes back', () => {
    expect(planElection([agent('a1'), agent('a2')], [reporter('a2')], NOW)).toEqual({
      elect: [],
      vacate: [],
      tell: [],
    })
  })

  it('hands the role of an offline or deleted reporter to the oldest 5.x agent left, and tells both', () => {
    for (const status of ['offline', 'deleted']) {
      const plan = planElection(
        [
          agent('a1', { status }),
          agent('a2', { agentVersion: '4.0.0' }),
          agent('a4'),
          agent('a3', { status: 'disabled' }),
        ],
        [reporter('a1')],
        NOW,
      )
      expect(plan.elect).toEqual([reporter('a3', { electedAt: NOW })])
      expect(plan.tell).toEqual(['a1', 'a3'])
    }
  })

  it('elects per client, region and type, and re-elects where the reporter moved to another type', () => {
    const plan = planElection(
      [agent('a1', { instanceType: 'm5.large' }), agent('a2'), agent('b1', { clientId: 'cli_b' })],
      [reporter('a1')],
      NOW,
    )
    const byAgent = [...plan.elect].sort((x, y) => (x.agentId < y.agentId ? -1 : 1))
    expect(byAgent).toEqual([
      reporter('a1', { instanceType: 'm5.large', electedAt: NOW }),
      reporter('a2', { electedAt: NOW }),
      reporter('b1', { clientId: 'cli_b', electedAt: NOW }),
    ])
    expect(new Set(plan.tell)).toEqual(new Set(['a1', 'a2', 'b1']))
  })

  it('prefers a verified agent, whose reports feed the consensus of other tenants', () => {
    const agents = [agent('a1'), agent('a2'), agent('a3', { identity: 'verified' })]
    expect(planElection(agents, [], NOW).elect).toEqual([reporter('a3', { electedAt: NOW })])
    // An unverified reporter gives the role up to a verified agent; a verified one keeps it.
    expect(planElection(agents, [reporter('a1')], NOW)).toMatchObject({
      elect: [reporter('a3', { electedAt: NOW })],
      tell: ['a1', 'a3'],
    })
    const verified = [...agents, agent('a0', { identity: 'verified' })]
    expect(planElection(verified, [reporter('a3')], NOW).elect).toEqual([])
  })

  it('leaves a group without a reporter when only installed or silent agents remain', () => {
    const plan = planElection(
      [agent('a1', { status: 'offline' }), agent('a2', { agentVersion: '3.2.0' })],
      [reporter('a1')],
      NOW,
    )
    expect(plan).toEqual({
      elect: [],
      vacate: [{ clientId: 'cli_a', region: 'us-east-1', instanceType: 't3.medium' }],
      tell: ['a1'],
    })
  })
})
