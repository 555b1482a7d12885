import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { backupImages } from '../../agent/src/actions/backup-image'
import { emergencyReportKey } from '../../agent/src/actions/emergency-tags'
import { handleNotice } from '../../agent/src/actions/notices'
import { seedWorkload, startFakeEc2, type FakeEc2, type SeededWorkload } from '../fakes'
import { directoryDisks, type Disks } from '../fakes/ec2/disks'
import { configWith } from './support/agent-config'
import { instantClock } from './support/clock'
import { actionContext } from './support/context'
import { recordingHttp } from './support/http'

const HOUR = 3600_000
let clock: ReturnType<typeof instantClock>
let ec2: FakeEc2
let disks: Disks
let w: SeededWorkload

beforeEach(async () => {
  clock = instantClock()
  disks = directoryDisks(mkdtempSync(join(tmpdir(), 'backup-disks-')))
  ec2 = await startFakeEc2({ clock, disks })
  w = seedWorkload(ec2, { lifecycle: 'spot', az: 'us-east-1a' })
})
afterEach(() => ec2.close())

const writeData = (instanceId: string, text: string) =>
  writeFileSync(join(disks.instanceDir(instanceId), 'data.txt'), text)
const readData = (instanceId: string) => readFileSync(join(disks.instanceDir(instanceId), 'data.txt'), 'utf8')

describe('an emergency launch after a backup', () => {
  it('starts from the backup AMI, with the files the instance had when the backup was made', async () => {
    // No replica (409) and no pool from the control plane (503): the agent launches on its own.
    const http = recordingHttp([
      (c) =>
        c.path.endsWith('/termination-imminent') ? { status: 409, body: { error: 'no replica' } } : undefined,
      (c) => (c.path.endsWith('/create-emergency-replica') ? { status: 503 } : undefined),
    ])
    const { ctx, log } = actionContext(ec2, w, clock, { http })
    ctx.agentConfig = () => configWith(6)
    const backups = backupImages(ctx)
    expect(await backups.runIfDue()).toBeNull()

    writeData(w.instanceId, 'orders up to 06:00')
    clock.advance(6 * HOUR)
    const backupId = (await backups.runIfDue())!
    expect(backupId).toMatch(/^ami-/)
    writeData(w.instanceId, 'orders up to 08:00')

    clock.advance(2 * HOUR)
    ec2.setSpotPrice('t3.medium', 'us-east-1a', 0.01)
    ec2.setSpotPrice('t3.medium', 'us-east-1b', 0.016)
    ec2.setSpotPrice('t3.medium', 'us-east-1c', 0.013)
    const result = await handleNotice(ctx, {
      kind: 'interruption',
      id: 'n-after-backup',
      action: 'terminate',
      time: new Date(clock.now() + 120_000).toISOString(),
    })
    expect(result).toMatchObject({ ok: true })
    const [replacement, ...more] = [...ec2.state.instances.values()].filter(
      (i) => i.instanceId !== w.instanceId,
    )
    expect(more).toEqual([])
    expect(replacement).toMatchObject({ az: 'us-east-1c', lifecycle: 'spot' })
    expect(replacement!.imageId).toBe(backupId)
    expect(readData(replacement!.instanceId)).toBe('orders up to 06:00')
    // It says which image: a SpotGuard AMI (the switch report), the periodic backup and its time (the log).
    expect(await ctx.link.delivered(emergencyReportKey('n-after-backup'))).toBe(true)
    const report = http.calls.find((c) => c.path.endsWith('/switch-report'))
    expect(report!.body).toMatchObject({ snapshot: { used: true, ami_id: backupId } })
    expect(log.lines.find((l) => l.msg === 'replica launched')).toMatchObject({
      image: backupId,
      image_source: 'spotguard_ami',
      image_kind: 'backup',
      image_made_at: new Date(ec2.state.images.get(backupId)!.createdAt).toISOString(),
    })
  })
})
