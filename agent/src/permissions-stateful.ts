/**
 * `--check`'s proof of the stateful mode's EC2 permissions (issue 15): its data volumes (Describe, Attach,
 * Detach, Create, Delete), the managed interface (Describe, Create, Attach, Detach, Delete,
 * ModifyNetworkInterfaceAttribute) and the rolling snapshots (CreateSnapshot), each by a dry run of the
 * call the mode makes, on this instance's data volume and the workload's managed interface when there
 * are (nothing of theirs changes: EC2 answers DryRunOperation, or authorizes then refuses a volume or an
 * interface in use, which proves the permission as well). Without one to act on, a proof is skipped.
 */
import { ROLE_TAG, ROLLING_SNAPSHOT_ROLE } from './actions/stateful/snapshots-retention'
import {
  dataVolumesOf,
  describeInterfaces,
  type AttachedVolume,
  type InterfaceFacts,
} from './actions/stateful/operations'
import type { Ec2, Ec2Error, Params } from './ec2-transport'
import { createSnapshotParams, listParams, tagSpecParams, type InstanceFacts } from './ec2-operations'
import type { Identity } from './imds'

/** How permissions.ts proves one permission (`params` a string: nothing to try it on, skipped). */
export interface Prover {
  read<T>(permission: string, call: () => Promise<T>): Promise<T | null>
  dryRun(
    action: string,
    params: Params | string,
    opts?: { accept?: (e: Ec2Error) => string | null },
  ): Promise<void>
}

/** What EC2 answers after authorizing a change of a volume or interface in use: the permission is there. */
const IN_USE = new Set(['VolumeInUse', 'IncorrectState', 'InvalidNetworkInterface.InUse'])
const inUse = (e: Ec2Error) =>
  IN_USE.has(e.code) ? `allowed (EC2 authorized it, then answered ${e.code}: it is in use)` : null

/**
 * The stateful mode's permissions, proved in the order the mode first needs them. Answers whether the mode
 * runs here already (a data volume tagged `SpotGuardRole=data-volume` by its inventory).
 */
export async function proveStatefulPermissions(
  ec2: Ec2,
  prove: Prover,
  self: Identity,
  me: InstanceFacts | null,
  workloadTags: Record<string, string>,
): Promise<boolean> {
  const volumes =
    (await prove.read<AttachedVolume[]>('ec2:DescribeVolumes', () =>
      dataVolumesOf(ec2, { instanceId: self.instanceId, rootDevice: me?.rootDevice ?? null }),
    )) ?? []
  const interfaces =
    (await prove.read<InterfaceFacts[]>('ec2:DescribeNetworkInterfaces', () =>
      describeInterfaces(ec2, [
        { name: 'tag:SpotGuardRole', values: ['workload-interface'] },
        { name: 'attachment.instance-id', values: [self.instanceId] },
      ]),
    )) ?? []
  const volume = volumes[0]
  const noVolume = 'no data volume on this instance to try it on (the stateful mode moves them)'
  await prove.dryRun(
    'CreateSnapshot',
    volume
      ? createSnapshotParams(volume.volumeId, 'SpotGuard check', {
          ...workloadTags,
          [ROLE_TAG]: ROLLING_SNAPSHOT_ROLE,
        })
      : noVolume,
  )
  await prove.dryRun(
    'DetachVolume',
    volume ? { VolumeId: volume.volumeId, InstanceId: self.instanceId } : noVolume,
  )
  await prove.dryRun(
    'AttachVolume',
    volume
      ? { VolumeId: volume.volumeId, InstanceId: self.instanceId, Device: volume.attachment.device }
      : noVolume,
    { accept: inUse },
  )
  await prove.dryRun('CreateVolume', {
    AvailabilityZone: self.az,
    Size: volume?.size ?? 1,
    VolumeType: 'gp3',
    ...tagSpecParams(['volume'], workloadTags),
  })
  await prove.dryRun('DeleteVolume', volume ? { VolumeId: volume.volumeId } : noVolume, { accept: inUse })
  await prove.dryRun(
    'CreateNetworkInterface',
    me?.subnetId
      ? {
          SubnetId: me.subnetId,
          Description: 'SpotGuard check',
          ...listParams('SecurityGroupId', me.securityGroupIds),
          ...tagSpecParams(['network-interface'], workloadTags),
        }
      : 'needs ec2:DescribeInstances of this instance (its subnet)',
  )
  const iface = interfaces.find((i) => i.attachment)
  const noInterface =
    'no managed interface on this instance yet to try it on (the stateful mode creates it at start)'
  await prove.dryRun(
    'AttachNetworkInterface',
    iface
      ? {
          NetworkInterfaceId: iface.eniId,
          InstanceId: self.instanceId,
          DeviceIndex: iface.attachment!.deviceIndex,
        }
      : noInterface,
    { accept: inUse },
  )
  await prove.dryRun(
    'DetachNetworkInterface',
    iface ? { AttachmentId: iface.attachment!.attachmentId } : noInterface,
  )
  await prove.dryRun(
    'ModifyNetworkInterfaceAttribute',
    iface
      ? { NetworkInterfaceId: iface.eniId, 'SourceDestCheck.Value': String(iface.sourceDestCheck) }
      : noInterface,
  )
  await prove.dryRun('DeleteNetworkInterface', iface ? { NetworkInterfaceId: iface.eniId } : noInterface, {
    accept: inUse,
  })
  return volumes.some((v) => v.tags.SpotGuardRole === 'data-volume')
}
