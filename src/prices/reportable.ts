/**
 * What an agent may report prices for: pools of its own region and of the instance types its group prices.
 * Pure; flows/prices.ts drops every other pool of a report and says so in the answer.
 */
import { parsePoolId, regionOfAz } from './pool-id'

/** Where the reporting agent's instance runs, as the control plane knows it. */
export interface ReporterPlace {
  instanceType: string | null
  region: string | null
  /** The other types its group prices (flows/priced-types.ts); absent: its own type alone. */
  otherTypes?: readonly string[]
}

/** The instance types an agent may report: its own and those its group's workloads may move to. */
export function reportableTypes(place: ReporterPlace): string[] {
  return place.instanceType ? [place.instanceType, ...(place.otherTypes ?? [])] : []
}

/** Whether a reported pool lies within the reporter's scope (its id, type and AZ consistent). */
export function isReportable(
  place: ReporterPlace,
  pool: { poolId: string; instanceType: string; az: string },
): boolean {
  const ref = parsePoolId(pool.poolId)
  return (
    ref !== null &&
    ref.instanceType === pool.instanceType &&
    ref.az === pool.az &&
    place.region !== null &&
    regionOfAz(pool.az) === place.region &&
    reportableTypes(place).includes(pool.instanceType)
  )
}
