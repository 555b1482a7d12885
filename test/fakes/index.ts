/** The fakes' public surface (see README.md). */
export { manualClock, systemClock, isoSeconds, type Clock, type ManualClock } from './clock'
export { TEST_CREDENTIALS, verifySigV4, type AwsCredentials } from './sigv4'
export {
  startFakeEc2,
  EC2_API_VERSION,
  type FakeEc2,
  type FakeEc2Options,
  type Ec2RequestLogEntry,
} from './ec2/server'
export { directoryDisks, type Disks, type DiskFile, type DiskFiles } from './ec2/disks'
export { seedWorkload, WORKLOAD_TAGS, WORKLOAD_USER_DATA, type SeededWorkload } from './ec2/workload'
export type {
  Instance,
  Image,
  Snapshot,
  Address,
  Durations,
  Volume,
  VolumeRecord,
  NetworkInterface,
} from './ec2/model'
export type { WorkloadTickOptions } from './ec2/content'
export {
  billOf,
  chargeOf,
  runningPeriods,
  MINIMUM_BILLED_MS,
  type BillOptions,
  type InstanceCharge,
} from './ec2/billing'
export {
  startFakeElbv2,
  ELBV2_API_VERSION,
  type FakeElbv2,
  type TargetGroupSeed,
  type Elbv2RequestLogEntry,
} from './elbv2/server'
export type { Elbv2Event } from './elbv2/model'
export { startFakePricing, DEFAULT_ON_DEMAND, type FakePricing } from './pricing'
export { startFakeImds, type FakeImds, type FakeImdsOptions } from './imds/server'
export { imdsFor } from './imds/link'
export type { ImdsInstance, ScheduledEvent, RoleCredentials } from './imds/metadata'
export {
  startRegion,
  startRegionServices,
  SIMULATOR_DURATIONS,
  driftingSpotPrice,
  type FakeRegion,
  type RegionOptions,
  type RegionServices,
} from './region'
