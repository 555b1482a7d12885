/** Why a type may not run the workload (compatibility.ts), in the words the API and the pages use. */
import { imageSupportOf, type TypeExclusion, type Workload } from './compatibility'
import { instanceTypeSpec } from './instance-types'

/** One sentence on why `candidate` is excluded from `workload` by `why`. */
export function typeExclusionWords(why: TypeExclusion, candidate: string, workload: Workload): string {
  const spec = instanceTypeSpec(candidate)
  const baseType = workload.baseType
  const base = instanceTypeSpec(baseType)
  const image = imageSupportOf(workload)
  switch (why) {
    case 'unknown_type':
      return `${candidate} is not in the shipped instance-type table`
    case 'unknown_base_type':
      return `the workload's type ${baseType} is not in the shipped instance-type table: what its image boots is unknown`
    case 'architecture':
      return `${candidate} is ${spec?.architecture}; the workload's image boots ${image?.architecture}`
    case 'needs_ena':
      return `${candidate} needs the ENA driver, which the workload's image lacks`
    case 'needs_nvme':
      return `${candidate} needs the NVMe driver, which the workload's image lacks`
    case 'not_allowed':
      return 'not on the allow-list'
    case 'fewer_vcpus':
      return `${spec?.vcpus} vCPUs, fewer than ${baseType} (${base?.vcpus})`
    case 'less_memory':
      return `${spec?.memoryGiB} GiB, less memory than ${baseType} (${base?.memoryGiB} GiB)`
    case 'older_generation':
      return `generation ${spec?.generation}, older than ${baseType} (${base?.generation})`
    case 'burstable':
      return `burstable (CPU credits), while ${baseType} has dedicated cores`
    default: {
      const never: never = why
      return never
    }
  }
}
