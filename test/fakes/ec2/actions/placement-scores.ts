/**
 * GetSpotPlacementScores with `InstanceType.N`: per AZ (`SingleAvailabilityZone=true`) or for the
 * region, how likely a spot request for `TargetCapacity` instances of any of the types is to succeed,
 * 1-10, from the fake's capacity (capacity.ts). Only the fake's own region is scored; a region it does
 * not serve is left out of the answer. `InstanceRequirementsWithMetadata` and capacity units other
 * than `units` are not modelled: refused as invalid rather than answered wrongly.
 */
import type { ActionHandler } from '../action'
import { Ec2Error, invalidValue } from '../errors'
import { scoreOf, spareCapacity, useConfiguration } from '../capacity'
import { bool, list, paginate, required } from '../query'
import { itemSet, leaf } from '../xml'
import { zoneId } from './network'

const MAX_TARGET_CAPACITY = 2_000_000_000

export const getSpotPlacementScores: ActionHandler = ({ state, params }) => {
  const types = [...new Set(list(params, 'InstanceType'))]
  if ([...params.keys()].some((k) => k.startsWith('InstanceRequirementsWithMetadata')))
    throw invalidValue('InstanceRequirementsWithMetadata', '(given)', 'is not supported by this fake')
  if (types.length === 0)
    throw new Ec2Error(
      'MissingParameter',
      'The request must contain the parameter InstanceTypes or InstanceRequirementsWithMetadata',
    )
  const rawTarget = required(params, 'TargetCapacity')
  const target = Number(rawTarget)
  if (!Number.isInteger(target) || target < 1 || target > MAX_TARGET_CAPACITY)
    throw invalidValue('TargetCapacity', rawTarget)
  const unit = params.get('TargetCapacityUnitType') ?? 'units'
  if (unit !== 'units') throw invalidValue('TargetCapacityUnitType', unit, 'is not supported by this fake')
  const singleAz = bool(params, 'SingleAvailabilityZone')
  const regions = [...new Set(list(params, 'RegionName'))]
  useConfiguration(state, JSON.stringify([[...types].sort(), target, unit, singleAz, [...regions].sort()]))

  const scored = regions.length === 0 || regions.includes(state.region)
  const spareIn = (az: string) => types.reduce((sum, t) => sum + spareCapacity(state, t, az), 0)
  const regionSpare = () => state.zones.reduce((sum, az) => sum + spareIn(az), 0)
  const items: { azId?: string; score: number }[] = !scored
    ? []
    : singleAz
      ? state.zones.map((az) => ({
          azId: zoneId(state.region, az),
          score: scoreOf(spareIn(az), target, types.length),
        }))
      : [{ score: scoreOf(regionSpare(), target, types.length) }]
  const { page, nextToken } = paginate(params, items, 10, 1000)
  return (
    itemSet('spotPlacementScoreSet', page, (s) =>
      [leaf('region', state.region), leaf('availabilityZoneId', s.azId), leaf('score', s.score)].join(''),
    ) + leaf('nextToken', nextToken)
  )
}
