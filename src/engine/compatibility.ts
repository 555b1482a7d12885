/**
 * Which instance types a workload may run on. Boot limits always hold: the image's architecture, and
 * the ENA and NVMe drivers a Nitro type needs. Then the agent's allow-list when it has one, else the
 * default rule against the type the workload started on (its base type, so one move to a larger type
 * does not raise the bar for the next): at least its vCPUs and memory, the same or a newer generation,
 * and never from dedicated cores to a burstable type (CPU credits would throttle the workload).
 */
import { INSTANCE_TYPES, instanceTypeSpec, type InstanceTypeSpec } from './instance-types'

/** What the workload's image boots (DescribeImages: Architecture, EnaSupport; its NVMe driver). */
export interface ImageSupport {
  /** As DescribeImages names it (`x86_64`, `arm64`, `i386`...): a type boots it when its own is the same. */
  architecture: string
  ena: boolean
  nvme: boolean
}

/** The workload the engine places, as the type rule needs it. */
export interface Workload {
  /** The type the workload started on: the default rule's reference and the savings baseline. */
  baseType: string
  /** What its image boots; absent: what running on the base type proves. */
  image?: ImageSupport
  /** The agent's allow-list: when set, it replaces the size and generation rule (boot limits hold). */
  allowedTypes?: readonly string[] | null
}

export type TypeExclusion =
  | 'unknown_type'
  | 'unknown_base_type'
  | 'architecture'
  | 'needs_ena'
  | 'needs_nvme'
  | 'not_allowed'
  | 'fewer_vcpus'
  | 'less_memory'
  | 'older_generation'
  | 'burstable'

/** What an image that boots `spec` is known to support: no more than that type needs. */
export function imageOf(spec: InstanceTypeSpec): ImageSupport {
  return { architecture: spec.architecture, ena: spec.enaRequired, nvme: spec.nvmeRequired }
}

/**
 * What an image is known to boot from what DescribeImages says of it. EC2 has no NVMe flag: an image
 * marked for ENA is one built for Nitro, whose drivers include NVMe (AWS's own and the distributions'
 * Nitro images), so `nvme` follows `ena`. Null when the architecture is unknown.
 */
export function imageFromFacts(architecture: string | null, enaSupport: boolean | null): ImageSupport | null {
  if (!architecture) return null
  const ena = enaSupport === true
  return { architecture, ena, nvme: ena }
}

/** What the workload's image boots: its own facts, else what running on the base type proves; null: unknown. */
export function imageSupportOf(workload: Workload): ImageSupport | null {
  if (workload.image) return workload.image
  const base = instanceTypeSpec(workload.baseType)
  return base ? imageOf(base) : null
}

/**
 * Why `candidate` may not run the workload, or null when it may. The base type always may; a type the
 * shipped table does not know never may (nothing proves the image boots it).
 */
export function typeExclusion(candidate: string, workload: Workload): TypeExclusion | null {
  if (candidate === workload.baseType) return null
  const spec = instanceTypeSpec(candidate)
  if (!spec) return 'unknown_type'
  const base = instanceTypeSpec(workload.baseType)
  const image = imageSupportOf(workload)
  if (!image) return 'unknown_base_type'
  if (spec.architecture !== image.architecture) return 'architecture'
  if (spec.enaRequired && !image.ena) return 'needs_ena'
  if (spec.nvmeRequired && !image.nvme) return 'needs_nvme'
  if (workload.allowedTypes) return workload.allowedTypes.includes(candidate) ? null : 'not_allowed'
  if (!base) return 'unknown_base_type'
  if (spec.vcpus < base.vcpus) return 'fewer_vcpus'
  if (spec.memoryGiB < base.memoryGiB) return 'less_memory'
  if (spec.burstable && !base.burstable) return 'burstable'
  if (spec.generation < base.generation) return 'older_generation'
  return null
}

/** The shipped types the workload may run on, its base type first (what the agent prices and the engine weighs). */
export function compatibleTypes(workload: Workload): string[] {
  const others = INSTANCE_TYPES.map((t) => t.instanceType).filter(
    (t) => t !== workload.baseType && typeExclusion(t, workload) === null,
  )
  return [workload.baseType, ...others]
}
