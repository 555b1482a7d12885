import { CreateImageCommand, RunInstancesCommand } from '@aws-sdk/client-ec2'
import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { manualClock } from './clock'
import { directoryDisks, type Disks } from './ec2/disks'
import { startFakeEc2, type FakeEc2 } from './ec2/server'
import { seedWorkload, type SeededWorkload } from './ec2/workload'
import { sdkFor } from './sdk'

let ec2: FakeEc2
let disks: Disks
let w: SeededWorkload

beforeEach(async () => {
  disks = directoryDisks(mkdtempSync(join(tmpdir(), 'fake-disks-')))
  ec2 = await startFakeEc2({ clock: manualClock(), disks })
  w = seedWorkload(ec2)
})
afterEach(() => ec2.close())

const read = (instanceId: string, path: string) =>
  readFileSync(join(disks.instanceDir(instanceId), path), 'utf8')
const launchFrom = async (imageId: string) =>
  (
    await sdkFor(ec2).send(
      new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.medium', MinCount: 1, MaxCount: 1 }),
    )
  ).Instances![0]!.InstanceId!

describe('fake EC2 disks', () => {
  it('boots an instance of a seeded golden image with the files the image carries, links included', async () => {
    const golden = ec2.seed.addImage({
      ownerId: 'self',
      files: {
        '/etc/app.env': { content: 'TOKEN=x\n', mode: 0o600 },
        '/etc/systemd/system/multi-user.target.wants/app.service': {
          symlink: '/etc/systemd/system/app.service',
        },
      },
    })
    const id = await launchFrom(golden)
    expect(read(id, 'etc/app.env')).toBe('TOKEN=x\n')
    expect(lstatSync(join(disks.instanceDir(id), 'etc/app.env')).mode & 0o777).toBe(0o600)
    expect(
      readlinkSync(join(disks.instanceDir(id), 'etc/systemd/system/multi-user.target.wants/app.service')),
    ).toBe('/etc/systemd/system/app.service')
    // The seeded workload came from an Amazon AMI: an empty disk.
    expect(readdirSync(disks.instanceDir(w.instanceId))).toEqual([])
  })

  it('images the disk as it is when CreateImage is asked, and a launch from the image gets that copy', async () => {
    const root = disks.instanceDir(w.instanceId)
    writeFileSync(join(root, 'state.json'), '{"owner":"source"}')
    const sdk = sdkFor(ec2)
    await expect(
      sdk.send(new CreateImageCommand({ DryRun: true, InstanceId: w.instanceId, Name: 'dry' })),
    ).rejects.toMatchObject({ name: 'DryRunOperation' })
    const { ImageId } = await sdk.send(
      new CreateImageCommand({ InstanceId: w.instanceId, Name: 'SpotOptimizer-x', NoReboot: true }),
    )
    writeFileSync(join(root, 'state.json'), '{"owner":"source","later":true}')
    ec2.advance(ImageId)
    const id = await launchFrom(ImageId!)
    expect(read(id, 'state.json')).toBe('{"owner":"source"}')
    // Instances do not share a disk: what the copy writes stays on it.
    writeFileSync(join(disks.instanceDir(id), 'state.json'), '{"owner":"copy"}')
    expect(read(w.instanceId, 'state.json')).toBe('{"owner":"source","later":true}')
    expect(readdirSync(join(disks.imageDir(ImageId!), '..'))).toEqual([ImageId])
  })
})
