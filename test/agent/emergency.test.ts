import { beforeEach, describe, expect, it } from 'vitest'
import { CONTROL_PLANE_SHARE_MS, handleNotice } from '../../agent/src/actions/notices'
import { seedWorkload, startFakeEc2 } from '../fakes'
import { actionContext } from './support/context'
import { recordingHttp } from './support/http'
import { clock, ec2, useSeededEc2, w } from './support/seeded-ec2'

useSeededEc2({ lifecycle: 'spot', az: 'us-east-1a' })
beforeEach(() => {
  ec2.setSpotPrice('t3.medium', 'us-east-1a', 0.01)
  ec2.setSpotPrice('t3.medium', 'us-east-1b', 0.016)
  ec2.setSpotPrice('t3.medium', 'us-east-1c', 0.013)
})

const others = () => [...ec2.state.instances.values()].filter((i) => i.instanceId !== w.instanceId)
const notice = () => ({ kind: 'interruption' as const, id: 'n-down', action: 'terminate', time: new Date(clock.now() + 120_000).toISOString() })

describe('interruption with the control plane unreachable', () => {
  it('stops waiting after its share of the budget and launches in the cheapest other AZ on its own', async () => {
    const http = recordingHttp([() => ({ status: 0 })])
    const { ctx, log } = actionContext(ec2, w, clock, { http })
    const start = clock.now()
    const result = await handleNotice(ctx, notice())
    expect(result).toMatchObject({ ok: true })
    const launchedAt = ec2.requests.find((r) => r.action === 'RunInstances')!.at
    expect(launchedAt - start).toBeLessThanOrEqual(CONTROL_PLANE_SHARE_MS)
    expect(http.calls.length).toBeGreaterThan(1)
    expect(http.calls.every((c) => c.path.endsWith('/termination-imminent'))).toBe(true)
    const [replica, ...more] = others()
    expect(more).toEqual([])
    expect(replica).toMatchObject({ az: 'us-east-1c', lifecycle: 'spot', imageId: w.launchImageId })
    expect(replica!.tags).toMatchObject({ ReplicaType: 'emergency', ReplicaId: 'local-n-down', ParentInstance: w.instanceId })
    expect(log.lines.some((l) => l.msg === 'interruption: control plane unreachable, emergency launch on our own')).toBe(true)
    // Nothing is queued for a replica the control plane never heard of.
    expect(ctx.state.outbox()).toEqual([])
  })

  it('launches on its own when the control plane answered 409 and then went away', async () => {
    const http = recordingHttp([
      (c) => (c.path.endsWith('/termination-imminent') ? { status: 409, body: { success: false } } : undefined),
      () => ({ status: 503 }),
    ])
    const { ctx } = actionContext(ec2, w, clock, { http })
    expect(await handleNotice(ctx, notice())).toMatchObject({ ok: true })
    expect(others()).toHaveLength(1)
    expect(others()[0]!.az).toBe('us-east-1c')
  })

  it('fails clearly when no other pool has a known price', async () => {
    const bare = await startFakeEc2({ clock })
    try {
      const w2 = seedWorkload(bare, { lifecycle: 'spot', az: 'us-east-1a' })
      const { ctx } = actionContext(bare, w2, clock, { http: recordingHttp([() => ({ status: 0 })]) })
      expect(await handleNotice(ctx, notice())).toMatchObject({ ok: false, code: 'NoPool' })
      expect(bare.count('RunInstances')).toBe(0)
    } finally {
      await bare.close()
    }
  })
})
