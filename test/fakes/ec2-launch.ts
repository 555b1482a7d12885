/** Test helper of the SDK-level tests: a running instance of the seeded workload's VPC in a zone. */
import { RunInstancesCommand, type RunInstancesCommandInput } from '@aws-sdk/client-ec2'
import type { Ec2Fixture } from './ec2-fixture'

/** Launches one t3.medium in `az` through the SDK and drives it to running; returns its id. */
export async function launchRunning(
  fx: Ec2Fixture,
  az: string,
  overrides: Partial<RunInstancesCommandInput> = {},
): Promise<string> {
  const instanceId = await launchPending(fx, az, overrides)
  fx.ec2.advance(instanceId)
  return instanceId
}

/** Launches one t3.medium in `az` through the SDK and leaves it pending; returns its id. */
export async function launchPending(
  fx: Ec2Fixture,
  az: string,
  overrides: Partial<RunInstancesCommandInput> = {},
): Promise<string> {
  const out = await fx.sdk.send(
    new RunInstancesCommand({
      ImageId: fx.w.launchImageId,
      InstanceType: 't3.medium',
      MinCount: 1,
      MaxCount: 1,
      SubnetId: fx.w.subnets[az],
      SecurityGroupIds: [fx.w.securityGroupId],
      ...overrides,
    }),
  )
  return out.Instances![0]!.InstanceId!
}
