import { afterEach, describe, expect, it } from 'vitest'
import { registrationBody } from '../../agent/src/registration'
import { readWorkloadImage } from '../../agent/src/workload-image'
import { seedWorkload, startFakeEc2, type FakeEc2 } from '../fakes'
import { instantClock } from './support/clock'
import { actionContext } from './support/context'

const started: FakeEc2[] = []
afterEach(async () => {
  for (const server of started.splice(0)) await server.close()
})

/** A workload on `instanceType`, launched from an image seeded with `image`. */
async function workloadOn(
  instanceType: string,
  image: { enaSupport?: boolean; architecture?: 'arm64' } = {},
) {
  const clock = instantClock()
  const ec2 = await startFakeEc2({ clock })
  started.push(ec2)
  const imageId = ec2.seed.addImage({ name: 'golden', ...image })
  const w = seedWorkload(ec2, { instanceType, imageId })
  return { ...actionContext(ec2, w, clock), ec2 }
}

describe('the image the workload runs, for registration', () => {
  it('registers what its AMI boots, as DescribeImages says it', async () => {
    const { ctx, log, ec2 } = await workloadOn('m4.large', { enaSupport: false })
    const image = await readWorkloadImage(ctx.ec2, ctx.self.amiId, log)
    expect(image).toEqual({ architecture: 'x86_64', enaSupport: false })
    const body = registrationBody(ctx.self, 'web-1', null, null, null, image)
    expect(body).toMatchObject({
      ami_id: ctx.self.amiId,
      image_architecture: 'x86_64',
      image_ena_support: false,
    })
    expect(
      ec2.requests.filter((r) => r.action === 'DescribeImages').map((r) => r.params['ImageId.1']),
    ).toEqual([ctx.self.amiId])

    const arm = await workloadOn('m6g.large', { architecture: 'arm64' })
    expect(await readWorkloadImage(arm.ctx.ec2, arm.ctx.self.amiId, arm.log)).toEqual({
      architecture: 'arm64',
      enaSupport: true,
    })
  })

  it('registers without image facts, saying why, when EC2 does not describe the image', async () => {
    const { ctx, log, ec2 } = await workloadOn('t3.medium')
    ec2.deny('DescribeImages')
    const image = await readWorkloadImage(ctx.ec2, ctx.self.amiId, log)
    expect(image).toBeNull()
    expect(log.lines.find((l) => l.msg.startsWith('workload image not described'))).toMatchObject({
      level: 'warn',
      ami_id: ctx.self.amiId,
    })
    const body = JSON.parse(JSON.stringify(registrationBody(ctx.self, 'web-1', null, null, null, image)))
    expect(body).not.toHaveProperty('image_architecture')
    expect(body).not.toHaveProperty('image_ena_support')
  })
})
