/** DescribeInstanceTypes, the architecture check of RunInstances and spot capacity per (type, AZ), through AWS's own SDK. */
import {
  CreateImageCommand,
  DescribeImagesCommand,
  DescribeInstanceTypesCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2'
import { describe, expect, it } from 'vitest'
import { INSTANCE_TYPES } from '../../src/engine/instance-types'
import { useFakeEc2 } from './ec2-fixture'

const fx = useFakeEc2()

function launch(imageId: string, instanceType: string, az = 'us-east-1b') {
  return fx.sdk.send(
    new RunInstancesCommand({
      ImageId: imageId,
      InstanceType: instanceType as never,
      MinCount: 1,
      MaxCount: 1,
      Placement: { AvailabilityZone: az },
      SubnetId: fx.w.subnets[az],
      InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time' } },
    }),
  )
}

describe('fake EC2 instance types through @aws-sdk/client-ec2', () => {
  it('describes the shipped table with the fields of DescribeInstanceTypes', async () => {
    const out = await fx.sdk.send(
      new DescribeInstanceTypesCommand({ InstanceTypes: ['m5.large', 'm6g.large', 't3.medium'] }),
    )
    const byType = new Map(out.InstanceTypes?.map((t) => [t.InstanceType, t]))
    expect(byType.size).toBe(3)
    expect(byType.get('m5.large')).toMatchObject({
      CurrentGeneration: true,
      BurstablePerformanceSupported: false,
      VCpuInfo: { DefaultVCpus: 2 },
      MemoryInfo: { SizeInMiB: 8192 },
      ProcessorInfo: { SupportedArchitectures: ['x86_64'] },
      NetworkInfo: { EnaSupport: 'required' },
      EbsInfo: { NvmeSupport: 'required' },
    })
    expect(byType.get('m6g.large')?.ProcessorInfo?.SupportedArchitectures).toEqual(['arm64'])
    expect(byType.get('t3.medium')).toMatchObject({
      BurstablePerformanceSupported: true,
      MemoryInfo: { SizeInMiB: 4096 },
    })
    const request = fx.ec2.requests.find((r) => r.action === 'DescribeInstanceTypes')!
    expect(request.params).toMatchObject({ 'InstanceType.1': 'm5.large', 'InstanceType.3': 't3.medium' })
  })

  it('lists every type by pages and filters by architecture', async () => {
    const seen: string[] = []
    let token: string | undefined
    do {
      const page = await fx.sdk.send(new DescribeInstanceTypesCommand({ MaxResults: 40, NextToken: token }))
      seen.push(...(page.InstanceTypes ?? []).map((t) => t.InstanceType!))
      token = page.NextToken
    } while (token)
    expect(seen.sort()).toEqual(INSTANCE_TYPES.map((t) => t.instanceType).sort())
    const arm = await fx.sdk.send(
      new DescribeInstanceTypesCommand({
        Filters: [{ Name: 'processor-info.supported-architecture', Values: ['arm64'] }],
      }),
    )
    expect(arm.InstanceTypes?.every((t) => t.ProcessorInfo?.SupportedArchitectures?.[0] === 'arm64')).toBe(
      true,
    )
    expect(arm.InstanceTypes?.length).toBe(INSTANCE_TYPES.filter((t) => t.architecture === 'arm64').length)
  })

  it('refuses an unknown type as AWS does', async () => {
    await expect(
      fx.sdk.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['m5.large', 'x9.huge' as never] })),
    ).rejects.toMatchObject({ name: 'InvalidInstanceType' })
  })

  it("refuses to launch a type whose architecture the image does not boot, and an image keeps its source's", async () => {
    await expect(launch(fx.w.launchImageId, 'm6g.large')).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: expect.stringContaining("does not match the architecture 'x86_64' of the specified AMI"),
    })
    const arm = fx.ec2.seed.addImage({ name: 'al2023-arm64', architecture: 'arm64' })
    const launched = await launch(arm, 'm6g.large')
    const instanceId = launched.Instances![0]!.InstanceId!
    expect(fx.ec2.instance(instanceId)).toMatchObject({ instanceType: 'm6g.large' })
    fx.ec2.settle()
    const { ImageId } = await fx.sdk.send(new CreateImageCommand({ InstanceId: instanceId, Name: 'of-arm' }))
    const described = await fx.sdk.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))
    expect(described.Images?.[0]?.Architecture).toBe('arm64')
    fx.ec2.settle()
    await expect(launch(ImageId!, 'm5.large')).rejects.toMatchObject({ name: 'InvalidParameterValue' })
  })

  it("describes an image's EnaSupport and BootMode, keeps them in an image made of its instance, and refuses an ENA-required type without ENA", async () => {
    const described = async (imageId: string) =>
      (await fx.sdk.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images?.[0]
    expect(await described(fx.w.launchImageId)).toMatchObject({ Architecture: 'x86_64', EnaSupport: true })
    const old = fx.ec2.seed.addImage({ name: 'legacy-xen', enaSupport: false, bootMode: 'legacy-bios' })
    expect(await described(old)).toMatchObject({
      Architecture: 'x86_64',
      EnaSupport: false,
      BootMode: 'legacy-bios',
    })
    await expect(launch(old, 'm5.large')).rejects.toMatchObject({
      name: 'InvalidParameterCombination',
      message: expect.stringContaining("(ENA) is required for the 'm5.large' instance type"),
    })
    const launched = await launch(old, 'm4.large')
    const instanceId = launched.Instances![0]!.InstanceId!
    fx.ec2.settle()
    const { ImageId } = await fx.sdk.send(new CreateImageCommand({ InstanceId: instanceId, Name: 'of-xen' }))
    expect(await described(ImageId!)).toMatchObject({
      Architecture: 'x86_64',
      EnaSupport: false,
      BootMode: 'legacy-bios',
    })
    fx.ec2.settle()
    await expect(launch(ImageId!, 't3.medium')).rejects.toMatchObject({ name: 'InvalidParameterCombination' })
  })

  it('runs each spot pool out of capacity on its own', async () => {
    fx.ec2.setSpotCapacityModel((type, az) => !(type === 'm5.large' && az === 'us-east-1b'))
    await expect(launch(fx.w.launchImageId, 'm5.large')).rejects.toMatchObject({
      name: 'InsufficientInstanceCapacity',
    })
    // Another type in the same AZ, and the same type in another AZ, still launch.
    await expect(launch(fx.w.launchImageId, 'm6a.large')).resolves.toBeDefined()
    await expect(launch(fx.w.launchImageId, 'm5.large', 'us-east-1c')).resolves.toBeDefined()
  })
})
