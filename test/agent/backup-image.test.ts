import { describe, expect, it } from 'vitest'
import { BACKUP_RETRY_MS, backupImages } from '../../agent/src/actions/backup-image'
import { runCleanup } from '../../agent/src/actions/cleanup'
import { createImage } from '../../agent/src/ec2-operations'
import type { AgentConfig } from '../../src/protocol'
import { configWith } from './support/agent-config'
import { actionContext } from './support/context'
import { clock, ec2, useSeededEc2, w } from './support/seeded-ec2'

const HOUR = 3600_000
const DAY = 24 * HOUR
useSeededEc2({ lifecycle: 'spot', az: 'us-east-1a' })

function contextWith(config: AgentConfig | null) {
  const made = actionContext(ec2, w, clock)
  made.ctx.agentConfig = () => config
  return made
}

const createImageCalls = () => ec2.requests.filter((r) => r.action === 'CreateImage' && r.status === 200)

describe('the periodic backup image', () => {
  it('images its own instance once a period has passed, tagged as the workload’s, and reports it', async () => {
    const { ctx, http } = contextWith(configWith(24))
    const backups = backupImages(ctx)
    expect(await backups.runIfDue()).toBeNull()
    clock.advance(23 * HOUR)
    expect(await backups.runIfDue()).toBeNull()
    expect(createImageCalls()).toEqual([])

    clock.advance(HOUR)
    const imageId = await backups.runIfDue()
    expect(imageId).toMatch(/^ami-/)
    const [call] = createImageCalls()
    expect(call!.params).toMatchObject({ InstanceId: w.instanceId, NoReboot: 'true' })
    const image = ec2.state.images.get(imageId!)!
    expect(image.state).toBe('available')
    expect(image.tags).toMatchObject({
      ManagedBy: 'SpotOptimizer',
      LogicalAgentId: 'agent-web-1',
      SourceInstance: w.instanceId,
      SpotGuardBackup: 'periodic',
    })
    expect(await ctx.link.delivered(`backup-image:${imageId}`)).toBe(true)
    const report = http.calls.find((c) => c.path.endsWith('/backup-image'))!
    expect(report).toMatchObject({
      method: 'POST',
      path: '/api/agents/agent-1/backup-image',
      body: { image_id: imageId, created_at: new Date(image.createdAt).toISOString() },
    })

    // The next one a period after this one.
    expect(await backups.runIfDue()).toBeNull()
    clock.advance(DAY)
    const next = await backups.runIfDue()
    expect(next).not.toBe(imageId)
    expect(createImageCalls()).toHaveLength(2)
  })

  it('makes none at 0 hours, nor when the control plane sends no period or disabled the agent', async () => {
    for (const config of [configWith(0), configWith(undefined), { ...configWith(1), enabled: false }, null]) {
      const { ctx } = contextWith(config)
      const backups = backupImages(ctx)
      clock.advance(3 * DAY)
      expect(await backups.runIfDue()).toBeNull()
    }
    expect(ec2.requests.filter((r) => r.action === 'CreateImage')).toEqual([])
  })

  it('tries again an hour after EC2 refused, not at every look', async () => {
    const { ctx } = contextWith(configWith(24))
    const backups = backupImages(ctx)
    ec2.deny('CreateImage')
    clock.advance(DAY)
    await expect(backups.runIfDue()).rejects.toThrow(/UnauthorizedOperation/)
    ec2.allow('CreateImage')
    clock.advance(BACKUP_RETRY_MS - 1)
    expect(await backups.runIfDue()).toBeNull()
    clock.advance(1)
    expect(await backups.runIfDue()).toMatch(/^ami-/)
    expect(ec2.requests.filter((r) => r.action === 'CreateImage').map((r) => r.status)).toEqual([403, 200])
  })

  it('counts the period from the newest SpotGuard AMI of the workload, a switch’s included', async () => {
    const { ctx } = contextWith(configWith(24))
    clock.advance(10 * HOUR)
    await createImage(ctx.ec2, w.instanceId, 'SpotOptimizer-switch', true, {
      ManagedBy: 'SpotOptimizer',
      LogicalAgentId: 'agent-web-1',
      SpotGuardCommandId: 'cmd-1',
    })
    ec2.settle()
    clock.advance(14 * HOUR)
    const backups = backupImages(ctx)
    expect(await backups.runIfDue()).toBeNull()
    clock.advance(10 * HOUR)
    expect(await backups.runIfDue()).toMatch(/^ami-/)
  })

  it('survives cleanup as the newest AMI of its workload, while older backups past 30 days go', async () => {
    const { ctx, http } = contextWith(configWith(24 * 20))
    const backups = backupImages(ctx)
    clock.advance(20 * DAY)
    const first = (await backups.runIfDue())!
    clock.advance(20 * DAY)
    const second = (await backups.runIfDue())!
    // A month on without a newer image (the agent was disabled): the newest stays whatever its age.
    clock.advance(31 * DAY)
    expect(await runCleanup(ctx)).toMatchObject({ ok: true })
    expect(ec2.state.images.has(first)).toBe(false)
    expect(ec2.state.images.get(second)?.state).toBe('available')
    await ctx.link.delivered(`cleanup:${clock.now()}`)
    const report = http.calls.find((c) => c.path.endsWith('/cleanup-report'))!.body as Record<string, any>
    expect(report.amis.deleted_amis).toEqual([first])
  })
})
