/** Test helper: AWS's own EC2 client pointed at a fake, with no retries so injected errors surface once. */
import { EC2Client } from '@aws-sdk/client-ec2'
import type { FakeEc2 } from './ec2/server'
import { TEST_CREDENTIALS, type AwsCredentials } from './sigv4'

export function sdkFor(ec2: FakeEc2, credentials: AwsCredentials = TEST_CREDENTIALS): EC2Client {
  return new EC2Client({ endpoint: ec2.url, region: ec2.state.region, credentials, maxAttempts: 1 })
}
