/** The settings form's allow-list of instance types: empty returns to the default rule, whose types it names. */
import { compatibleTypes } from '../../engine/compatibility'
import type { Agent } from '../../db/schema'

/** How many of the default rule's types the hint names before "and N more". */
const NAMED = 12

export function AllowListField(props: { agent: Agent; instanceType: string | null; legacy: boolean }) {
  const base = props.agent.baseInstanceType ?? props.instanceType
  // The base type first, then the others of the rule (compatibleTypes' order).
  const others = base ? compatibleTypes({ baseType: base }).slice(1) : []
  const named = others.slice(0, NAMED).join(', ')
  const more = others.length > NAMED ? ` and ${others.length - NAMED} more` : ''
  return (
    <div class="stack" style="margin-top:8px">
      <label for="allowed-types">
        Instance types the workload may run on (comma-separated; empty: the default rule)
      </label>
      <input
        id="allowed-types"
        name="allowedInstanceTypes"
        data-list
        value={(props.agent.allowedInstanceTypes ?? []).join(', ')}
        placeholder={base ? `default rule, e.g. ${others.slice(0, 3).join(', ')}` : 'default rule'}
      />
      <p class="muted" style="margin:0;font-size:13px" id="default-rule">
        {base
          ? `The default rule keeps ${base} and allows types at least as large, of the same architecture and the same or a newer generation: ${named || 'none other in the shipped table'}${more}. A list replaces the rule; ${base} stays allowed.`
          : 'The default rule applies once the agent reports its instance type.'}
        {props.legacy ? ' A legacy agent launches only its own type until it runs 5.0 or later.' : ''}
      </p>
    </div>
  )
}
