/** Typed EC2 operations over the Query API transport of ec2-transport.ts: params in, plain facts out. */
import { child, items, text, type Ec2, type Params, type Xml } from './ec2-transport'

export interface Filter {
  name: string
  values: string[]
}
export type Tags = Record<string, string>

export interface InstanceFacts {
  instanceId: string
  state: string
  instanceType: string
  az: string
  subnetId: string | null
  vpcId: string | null
  securityGroupIds: string[]
  instanceProfileArn: string | null
  keyName: string | null
  imageId: string | null
  mode: 'spot' | 'ondemand'
  tags: Tags
  /** Epoch ms. */
  launchTime: number | null
  publicIp: string | null
  /** The root volume's device (`/dev/xvda`); the others are data volumes. */
  rootDevice: string | null
}

export interface ImageFacts {
  imageId: string
  name: string | null
  state: string
  /** Epoch ms. */
  createdAt: number | null
  tags: Tags
  snapshotIds: string[]
  /** What it boots: `x86_64`, `arm64`... (null: EC2 did not say). */
  architecture: string | null
  /** Whether it carries the ENA driver (EC2 leaves the flag out when not). */
  enaSupport: boolean
}

export interface SnapshotFacts {
  snapshotId: string
  /** The volume it copies (an AMI's snapshot: the volume imaged). */
  volumeId: string | null
  /** `pending`, `completed`, `error` (EC2's words). */
  state: string
  /** Epoch ms. */
  startedAt: number | null
  /** Epoch ms; null until completed. */
  completedAt: number | null
  tags: Tags
}

export interface SpotPrice {
  /** The row's instance type (a call may ask for several). */
  instanceType?: string
  az: string
  price: number
  /** Epoch ms. */
  at: number
}

export interface LaunchSpec {
  imageId: string
  instanceType: string
  subnetId: string | null
  securityGroupIds: string[]
  instanceProfileArn: string | null
  keyName: string | null
  /** Base64, exactly as DescribeInstanceAttribute returned it. */
  userData: string | null
  mode: 'spot' | 'ondemand'
  tags: Tags
  clientToken: string
}

/** Flattens filters into `Filter.N.Name` / `Filter.N.Value.M`. */
export function filterParams(filters: Filter[]): Params {
  const params: Params = {}
  filters.forEach((f, i) => {
    params[`Filter.${i + 1}.Name`] = f.name
    f.values.forEach((v, j) => (params[`Filter.${i + 1}.Value.${j + 1}`] = v))
  })
  return params
}

/** `prefix.1`, `prefix.2`... for a list. */
export function listParams(prefix: string, values: string[]): Params {
  const params: Params = {}
  values.forEach((v, i) => (params[`${prefix}.${i + 1}`] = v))
  return params
}

/** TagSpecification.N for resource types, all with the same tags. */
export function tagSpecParams(resourceTypes: string[], tags: Tags): Params {
  const params: Params = {}
  const entries = Object.entries(tags).slice(0, 50)
  resourceTypes.forEach((type, i) => {
    const p = `TagSpecification.${i + 1}`
    params[`${p}.ResourceType`] = type
    entries.forEach(([k, v], j) => {
      params[`${p}.Tag.${j + 1}.Key`] = k
      params[`${p}.Tag.${j + 1}.Value`] = v
    })
  })
  return params
}

export function tagsOf(x: Xml): Tags {
  const tags: Tags = {}
  for (const t of items(x.tagSet)) {
    const key = text(t, 'key')
    if (key !== null) tags[key] = text(t, 'value') ?? ''
  }
  return tags
}

function time(value: string | null): number | null {
  const ms = value ? Date.parse(value) : NaN
  return Number.isFinite(ms) ? ms : null
}

function instanceOf(x: Xml): InstanceFacts {
  return {
    instanceId: text(x, 'instanceId') ?? '',
    state: text(child(x, 'instanceState'), 'name') ?? 'unknown',
    instanceType: text(x, 'instanceType') ?? '',
    az: text(child(x, 'placement'), 'availabilityZone') ?? '',
    subnetId: text(x, 'subnetId'),
    vpcId: text(x, 'vpcId'),
    securityGroupIds: items(x.groupSet).flatMap((g) => text(g, 'groupId') ?? []),
    instanceProfileArn: text(child(x, 'iamInstanceProfile'), 'arn'),
    keyName: text(x, 'keyName'),
    imageId: text(x, 'imageId'),
    mode: text(x, 'instanceLifecycle') === 'spot' ? 'spot' : 'ondemand',
    tags: tagsOf(x),
    launchTime: time(text(x, 'launchTime')),
    publicIp: text(x, 'ipAddress'),
    rootDevice: text(x, 'rootDeviceName'),
  }
}

/** Follows NextToken until the last page. */
async function paged(ec2: Ec2, action: string, params: Params, each: (page: Xml) => void): Promise<void> {
  let next: string | null = null
  do {
    const page = await ec2.read(action, next ? { ...params, NextToken: next } : params)
    each(page)
    next = text(page, 'nextToken')
  } while (next)
}

export async function describeInstances(
  ec2: Ec2,
  ids: string[],
  filters: Filter[] = [],
): Promise<InstanceFacts[]> {
  const out: InstanceFacts[] = []
  await paged(
    ec2,
    'DescribeInstances',
    { ...listParams('InstanceId', ids), ...filterParams(filters) },
    (page) => {
      for (const r of items(page.reservationSet))
        for (const i of items(r.instancesSet)) out.push(instanceOf(i))
    },
  )
  return out
}

/** One instance, or null when EC2 doesn't know it. */
export async function describeInstance(ec2: Ec2, id: string): Promise<InstanceFacts | null> {
  try {
    return (await describeInstances(ec2, [id]))[0] ?? null
  } catch (err) {
    if (err instanceof Error && 'kind' in err && err.kind === 'not_found') return null
    throw err
  }
}

/** The instance's user data, base64, or null when it has none. */
export async function describeUserData(ec2: Ec2, id: string): Promise<string | null> {
  const answer = await ec2.read('DescribeInstanceAttribute', { InstanceId: id, Attribute: 'userData' })
  return text(child(answer, 'userData'), 'value')
}

/**
 * CreateImage's parameters (shared with --check's dry run). `noDevices`: data devices left out of the
 * image (`NoDevice`), so its launches come up without copies there (a stateful switch moves the volumes).
 */
export function createImageParams(
  instanceId: string,
  name: string,
  noReboot: boolean,
  tags: Tags,
  noDevices: readonly string[] = [],
): Params {
  const params: Params = {
    InstanceId: instanceId,
    Name: name,
    NoReboot: noReboot,
    Description: `SpotGuard image of ${instanceId}`,
    ...tagSpecParams(['image', 'snapshot'], tags),
  }
  noDevices.forEach((device, i) => {
    params[`BlockDeviceMapping.${i + 1}.DeviceName`] = device
    params[`BlockDeviceMapping.${i + 1}.NoDevice`] = ''
  })
  return params
}

export async function createImage(
  ec2: Ec2,
  instanceId: string,
  name: string,
  noReboot: boolean,
  tags: Tags,
  noDevices: readonly string[] = [],
) {
  const answer = await ec2.write(
    'CreateImage',
    createImageParams(instanceId, name, noReboot, tags, noDevices),
  )
  return text(answer, 'imageId') ?? ''
}

export async function describeImages(ec2: Ec2, ids: string[], filters: Filter[] = []): Promise<ImageFacts[]> {
  const out: ImageFacts[] = []
  const params = {
    ...listParams('ImageId', ids),
    ...(ids.length ? {} : { 'Owner.1': 'self' }),
    ...filterParams(filters),
  }
  await paged(ec2, 'DescribeImages', params, (page) => {
    for (const x of items(page.imagesSet)) {
      out.push({
        imageId: text(x, 'imageId') ?? '',
        name: text(x, 'name'),
        state: text(x, 'imageState') ?? 'unknown',
        createdAt: time(text(x, 'creationDate')),
        tags: tagsOf(x),
        snapshotIds: items(x.blockDeviceMapping).flatMap((b) => text(child(b, 'ebs'), 'snapshotId') ?? []),
        architecture: text(x, 'architecture'),
        enaSupport: text(x, 'enaSupport') === 'true',
      })
    }
  })
  return out
}

export async function describeSnapshots(ec2: Ec2, filters: Filter[]): Promise<SnapshotFacts[]> {
  const out: SnapshotFacts[] = []
  await paged(ec2, 'DescribeSnapshots', { 'Owner.1': 'self', ...filterParams(filters) }, (page) => {
    for (const x of items(page.snapshotSet)) {
      out.push({
        snapshotId: text(x, 'snapshotId') ?? '',
        volumeId: text(x, 'volumeId'),
        state: text(x, 'status') ?? 'unknown',
        startedAt: time(text(x, 'startTime')),
        completedAt: time(text(x, 'completionTime')),
        tags: tagsOf(x),
      })
    }
  })
  return out
}

/** CreateSnapshot's parameters (shared with --check's dry run). */
export function createSnapshotParams(volumeId: string, description: string, tags: Tags): Params {
  return { VolumeId: volumeId, Description: description, ...tagSpecParams(['snapshot'], tags) }
}

/** Starts a snapshot of a volume (it completes later); its id. */
export async function createSnapshot(
  ec2: Ec2,
  volumeId: string,
  description: string,
  tags: Tags,
): Promise<string> {
  const answer = await ec2.write('CreateSnapshot', createSnapshotParams(volumeId, description, tags))
  const id = text(answer, 'snapshotId')
  if (!id) throw new Error('CreateSnapshot answered without a snapshot id')
  return id
}

/** RunInstances' parameters for one instance (shared with --check's dry run). */
export function runInstanceParams(spec: LaunchSpec): Params {
  const params: Params = {
    ImageId: spec.imageId,
    InstanceType: spec.instanceType,
    MinCount: 1,
    MaxCount: 1,
    ClientToken: spec.clientToken,
    SubnetId: spec.subnetId ?? undefined,
    ...listParams('SecurityGroupId', spec.securityGroupIds),
    'IamInstanceProfile.Arn': spec.instanceProfileArn ?? undefined,
    KeyName: spec.keyName ?? undefined,
    UserData: spec.userData ?? undefined,
    ...tagSpecParams(['instance', 'volume'], spec.tags),
  }
  if (spec.mode === 'spot') {
    params['InstanceMarketOptions.MarketType'] = 'spot'
    params['InstanceMarketOptions.SpotOptions.SpotInstanceType'] = 'one-time'
    params['InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior'] = 'terminate'
  }
  return params
}

export async function runInstance(ec2: Ec2, spec: LaunchSpec): Promise<string> {
  const answer = await ec2.write('RunInstances', runInstanceParams(spec))
  const id = text(items(answer.instancesSet)[0], 'instanceId')
  if (!id) throw new Error('RunInstances answered without an instance id')
  return id
}

/** Both status checks of a running instance; null while EC2 reports none. */
export async function describeInstanceStatus(ec2: Ec2, id: string) {
  const answer = await ec2.read('DescribeInstanceStatus', { 'InstanceId.1': id, IncludeAllInstances: true })
  const x = items(answer.instanceStatusSet)[0]
  if (!x) return null
  return {
    state: text(child(x, 'instanceState'), 'name') ?? 'unknown',
    instanceStatus: text(child(x, 'instanceStatus'), 'status') ?? 'unknown',
    systemStatus: text(child(x, 'systemStatus'), 'status') ?? 'unknown',
  }
}

export async function terminateInstance(ec2: Ec2, id: string): Promise<void> {
  await ec2.write('TerminateInstances', { 'InstanceId.1': id })
}

/** Elastic IPs associated with an instance, or the one with a public IP. */
export async function describeAddresses(ec2: Ec2, by: string | { publicIp: string }) {
  const filter =
    typeof by === 'string'
      ? { name: 'instance-id', values: [by] }
      : { name: 'public-ip', values: [by.publicIp] }
  const answer = await ec2.read('DescribeAddresses', filterParams([filter]))
  return items(answer.addressesSet).map((a) => ({
    allocationId: text(a, 'allocationId'),
    publicIp: text(a, 'publicIp'),
    /** The instance it is associated with now (none: unassociated). */
    instanceId: text(a, 'instanceId'),
    /** The instance's private IP the address maps to (its primary one, unless it was put on another). */
    privateIp: text(a, 'privateIpAddress'),
  }))
}

export async function associateAddress(ec2: Ec2, allocationId: string, instanceId: string): Promise<void> {
  await ec2.write('AssociateAddress', {
    AllocationId: allocationId,
    InstanceId: instanceId,
    AllowReassociation: true,
  })
}

/** Available subnets of a VPC in one AZ, the one with most free addresses first. */
export async function describeSubnets(ec2: Ec2, vpcId: string, az: string): Promise<string[]> {
  const answer = await ec2.read(
    'DescribeSubnets',
    filterParams([
      { name: 'vpc-id', values: [vpcId] },
      { name: 'availability-zone', values: [az] },
    ]),
  )
  return items(answer.subnetSet)
    .filter((s) => (text(s, 'state') ?? 'available') === 'available')
    .sort(
      (a, b) =>
        Number(text(b, 'availableIpAddressCount') ?? 0) - Number(text(a, 'availableIpAddressCount') ?? 0),
    )
    .flatMap((s) => text(s, 'subnetId') ?? [])
}

/** Spot price change points of one type, all AZs, since `startTime` (epoch ms). */
/** Spot price rows of one or several instance types (`InstanceType.N`) in ONE call. */
export async function describeSpotPriceHistory(
  ec2: Ec2,
  instanceTypes: string | readonly string[],
  productDescription: string,
  startTime: number,
): Promise<SpotPrice[]> {
  const types = typeof instanceTypes === 'string' ? [instanceTypes] : instanceTypes
  const answer = await ec2.read('DescribeSpotPriceHistory', {
    ...listParams('InstanceType', [...types]),
    'ProductDescription.1': productDescription,
    StartTime: new Date(startTime).toISOString(),
  })
  return items(answer.spotPriceHistorySet).flatMap((x) => {
    const az = text(x, 'availabilityZone')
    const price = Number(text(x, 'spotPrice'))
    const at = time(text(x, 'timestamp'))
    const instanceType = text(x, 'instanceType') ?? (types.length === 1 ? types[0] : undefined)
    return az && instanceType && Number.isFinite(price) && at !== null
      ? [{ instanceType, az, price, at }]
      : []
  })
}

export async function deregisterImage(ec2: Ec2, imageId: string): Promise<void> {
  await ec2.write('DeregisterImage', { ImageId: imageId })
}

export async function deleteSnapshot(ec2: Ec2, snapshotId: string): Promise<void> {
  await ec2.write('DeleteSnapshot', { SnapshotId: snapshotId })
}

/** CreateTags' parameters (shared with --check's dry run). */
export function createTagsParams(resourceIds: string[], tags: Tags): Params {
  const params: Params = listParams('ResourceId', resourceIds)
  Object.entries(tags).forEach(([k, v], i) => {
    params[`Tag.${i + 1}.Key`] = k
    params[`Tag.${i + 1}.Value`] = v
  })
  return params
}

/** Tags resources (the IAM policy allows only SpotGuard's tag keys here). */
export async function createTags(ec2: Ec2, resourceIds: string[], tags: Tags): Promise<void> {
  await ec2.write('CreateTags', createTagsParams(resourceIds, tags))
}
