/**
 * The allow-list a person sets on an agent: types of the shipped table only, and only types the
 * workload's image boots (architecture, ENA and NVMe drivers). Size and generation are the person's
 * choice: a list replaces the default rule (compatibility.ts).
 */
import * as z from 'zod'
import { typeExclusion, type Workload } from './compatibility'
import { instanceTypeSpec } from './instance-types'
import { typeExclusionWords } from './type-words'

/** A bound on the list: the agent prices every listed type in each report. */
export const MAX_ALLOWED_TYPES = 40

/** An allow-list as a body carries it: 1 to 40 types of the shipped table, duplicates dropped. */
export const AllowedInstanceTypes = z
  .array(
    z
      .string()
      .trim()
      .refine((t) => instanceTypeSpec(t) !== undefined, {
        message: 'not in the shipped instance-type table (docs/engine.md)',
      }),
  )
  .min(1, 'an empty allow-list allows nothing: send null to return to the default rule')
  .max(MAX_ALLOWED_TYPES)
  .transform((types) => [...new Set(types)])

/** A listed type the workload cannot run on, by its index in the list. */
export interface AllowListProblem {
  index: number
  message: string
}

/**
 * The listed types the workload's image cannot boot, each with the reason in words; empty when the
 * whole list may be stored. `workload` names the base type (and the image when known).
 */
export function unbootableTypes(types: readonly string[], workload: Workload): AllowListProblem[] {
  const withList = { ...workload, allowedTypes: types }
  return types.flatMap((type, index) => {
    const why = typeExclusion(type, withList)
    return why === null ? [] : [{ index, message: typeExclusionWords(why, type, withList) }]
  })
}
