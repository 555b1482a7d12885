/** Why an option of the instance page is or isn't the workload's placement, in words (the page and the API). */
import type { Workload } from './compatibility'
import { SHORT_OF_CAPACITY } from './capacity'
import type { SkipReason } from './decide'
import type { OptionRow } from './placement-options'
import { typeExclusionWords } from './type-words'
import type { BlockReason } from './types'
import { isLegacyAgent } from '../protocol'

/** A guardrail that held the pick back, in words. */
const BLOCKS: Record<BlockReason, string> = {
  agent_disabled: 'the agent is disabled',
  agent_offline: 'the agent is offline',
  unknown_placement: 'the current placement is unknown',
  command_in_flight: 'a command is in flight',
  cooldown: 'cooldown after the last switch',
  daily_cap: 'the daily switch cap is reached',
  weekly_cap: 'the weekly switch cap is reached',
  switch_reserve: 'the day’s or week’s last switches are kept for urgent moves',
  min_pool_duration: 'the minimum stay in the current placement',
  min_savings: 'the saving is below the minimum',
  hysteresis: 'not enough value to switch',
  flapping_budget: 'it left spot too often lately (flapping budget)',
  gap_not_lasting: 'it was cheaper than the current pool for too few of the last 24 hours',
}

/** Why `decide` left a pool out, in words. */
function skippedWords(reason: SkipReason, risk: number | null, cap: number | null): string {
  switch (reason) {
    case 'above_risk_threshold':
      return `risk ${risk?.toFixed(2) ?? '?'} above the cap ${cap ?? '?'}`
    case 'stale':
      return 'its price is too old to act on'
    case 'recently_interrupted':
      return 'it interrupted an instance recently'
    case 'capacity_error':
      return 'a launch there found no capacity recently'
    case 'excluded_zone':
      return 'its zone is excluded'
    case 'stateful_other_az':
      return 'another AZ than the stateful workload’s data volumes'
    case 'no_price':
      return 'no price yet'
    case 'incompatible_type':
      return 'its type may not run the workload'
    case 'current':
      return 'it was the current placement'
    default: {
      const never: never = reason
      return never
    }
  }
}

/** Why `row` is or isn't the placement of `agent`'s workload, in words; a pool short of capacity says so. */
export function optionWords(
  row: OptionRow,
  agent: { workload: Workload; agentVersion: string | null },
): string {
  const words = whyWords(row, agent)
  const score = row.placementScore
  return score !== null && score <= LOW_SCORE
    ? `${words} (spot placement score ${score}/10: little capacity)`
    : words
}

/** A placement score at or below this is short of capacity (its capacity evidence reaches SHORT_OF_CAPACITY). */
const LOW_SCORE = 10 - Math.ceil(9 * SHORT_OF_CAPACITY)

function whyWords(row: OptionRow, agent: { workload: Workload; agentVersion: string | null }): string {
  const why = row.why
  switch (why.kind) {
    case 'current':
      return 'current placement'
    case 'pick':
      if (why.decision !== 'stay') return 'the engine’s pick: a switch here is allowed now'
      return why.blockedBy.length > 0
        ? `the engine’s pick, held back: ${why.blockedBy.map((b) => BLOCKS[b] ?? b).join(', ')}`
        : 'the best alternative, but not enough value to switch'
    case 'weighed':
      return 'weighed: less value than the engine’s pick or the current placement'
    case 'type':
      return why.exclusion === 'not_allowed' && isLegacyAgent(agent.agentVersion)
        ? 'a legacy agent (before 5.0) launches only its own type'
        : typeExclusionWords(why.exclusion, row.instanceType, agent.workload)
    case 'stateful':
      return `stateful: data volumes stay in ${why.az}`
    case 'no_price':
      return 'no price yet'
    case 'skipped':
      return `skipped: ${skippedWords(why.reason, row.risk, why.riskCap)}`
    case 'not_weighed':
      return 'not in the engine’s latest decision yet (weighed at its next run)'
    default: {
      const never: never = why
      return never
    }
  }
}
