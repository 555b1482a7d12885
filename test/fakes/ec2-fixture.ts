/** The fake EC2 fixture of the SDK-level tests: a fresh server per test, on a manual clock, with the seeded workload. */
import type { EC2Client } from '@aws-sdk/client-ec2'
import { afterEach, beforeEach } from 'vitest'
import { manualClock, type ManualClock } from './clock'
import { startFakeEc2, type FakeEc2 } from './ec2/server'
import { seedWorkload, type SeededWorkload } from './ec2/workload'
import { sdkFor } from './sdk'

export interface Ec2Fixture {
  clock: ManualClock
  ec2: FakeEc2
  /** AWS's own EC2 client pointed at `ec2`. */
  sdk: EC2Client
  w: SeededWorkload
}

/** Registers the hooks that start a fresh fixture before each test of the file and close it after; read its fields inside tests. */
export function useFakeEc2(): Ec2Fixture {
  const fx = {} as Ec2Fixture
  beforeEach(async () => {
    fx.clock = manualClock()
    fx.ec2 = await startFakeEc2({ clock: fx.clock })
    fx.sdk = sdkFor(fx.ec2)
    fx.w = seedWorkload(fx.ec2)
  })
  afterEach(() => fx.ec2.close())
  return fx
}
