/**
 * The soak's checker can fail: a short soak (2 simulated hours, 2 agents, 80×) with one D1 row
 * corrupted mid-run (an instance EC2 runs marked terminated) must report that divergence, found by a
 * check against EC2 after the corruption.
 */
import { describe, expect, it } from 'vitest'
import { runSoak } from '../../scripts/soak/run'
import { failures } from '../../scripts/soak/report'

describe('the soak', () => {
  it('reports a D1 row corrupted mid-run as a divergence from EC2', { timeout: 600_000 }, async () => {
    const result = await runSoak({
      hours: 2,
      agents: 2,
      seed: 3,
      speed: 80,
      injectDivergence: true,
      legacyAgents: 0,
      statefulAgents: 0,
      keepState: false,
      say: () => undefined,
    })

    expect(result.injected).not.toBeNull()
    const found = result.divergence_list.find(
      (d) => d.invariant === 'd' && d.subject === result.injected!.instance_id,
    )
    expect(found).toMatchObject({
      workload: result.injected!.workload,
      d1: expect.stringContaining('terminated at'),
    })
    expect(Date.parse(found!.time)).toBeGreaterThan(Date.parse(result.injected!.time))
    expect(result.divergences).toBeGreaterThanOrEqual(1)
    expect(failures(result)).toEqual([])
    expect(result.interruptions).toBeGreaterThanOrEqual(3)
    expect(result.restarts).toBe(1)
  })
})
