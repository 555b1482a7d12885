/**
 * DescribeInstanceTypes: the shipped instance-type table (src/engine/instance-types.ts), so the fake
 * and the engine agree on what a type is. AWS's XML shape; `InstanceType.N` must all exist (AWS fails
 * the whole call on one unknown type); filters `instance-type`, `processor-info.supported-architecture`
 * and `current-generation`. ENA and NVMe are `required` on Nitro types and `unsupported` otherwise (the
 * table records only whether a type needs the driver).
 */
import {
  INSTANCE_TYPES,
  instanceTypeSpec,
  type InstanceTypeSpec,
} from '../../../../src/engine/instance-types'
import type { ActionHandler } from '../action'
import { Ec2Error } from '../errors'
import { filters, list, matchesAll, paginate } from '../query'
import { itemSet, leaf, node } from '../xml'

function typeXml(t: InstanceTypeSpec): string {
  return [
    leaf('instanceType', t.instanceType),
    // Every type of the table is one AWS still lists as current.
    leaf('currentGeneration', true),
    leaf('burstablePerformanceSupported', t.burstable),
    node(
      'processorInfo',
      itemSet('supportedArchitectures', [t.architecture], (a) => a),
    ),
    node('vCpuInfo', leaf('defaultVCpus', t.vcpus)),
    node('memoryInfo', leaf('sizeInMiB', t.memoryGiB * 1024)),
    node('networkInfo', leaf('enaSupport', t.enaRequired ? 'required' : 'unsupported')),
    node('ebsInfo', leaf('nvmeSupport', t.nvmeRequired ? 'required' : 'unsupported')),
  ].join('')
}

export const describeInstanceTypes: ActionHandler = ({ params }) => {
  const names = list(params, 'InstanceType')
  const unknown = names.filter((n) => !instanceTypeSpec(n))
  if (unknown.length > 0)
    throw new Ec2Error(
      'InvalidInstanceType',
      `The following supplied instance types do not exist: [${unknown.join(', ')}]`,
    )
  const wanted = filters(params)
  const types = INSTANCE_TYPES.filter((t) => names.length === 0 || names.includes(t.instanceType)).filter(
    (t) =>
      matchesAll(wanted, (name) => {
        if (name === 'instance-type') return [t.instanceType]
        if (name === 'processor-info.supported-architecture') return [t.architecture]
        if (name === 'current-generation') return ['true']
        return undefined
      }),
  )
  const { page, nextToken } = paginate(params, types, 5, 100)
  return itemSet('instanceTypeSet', page, typeXml) + leaf('nextToken', nextToken)
}
