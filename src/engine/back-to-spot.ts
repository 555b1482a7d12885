/**
 * The way back to spot. A workload that left spot (an interruption's failover or a replacement that
 * found no spot capacity, or a switch to on-demand) and runs on on-demand goes back to a spot pool as
 * soon as one is safe again (a candidate: within the risk threshold, not just interrupted, no recent
 * capacity error) and the guardrails allow; such a move carries the reason `back_to_spot`. A flapping
 * budget holds it: after leaving spot `flap_max_spot_exits` times within `flap_window_hours`, the
 * workload stays on on-demand until the older of those exits is out of the window.
 */
import type { EngineParams } from './params'
import type { EngineInput } from './types'

const HOUR_MS = 3_600_000

/** Whether the workload runs on on-demand after leaving spot (imposed, or a recorded exit). */
export function hasLeftSpot(input: EngineInput): boolean {
  return input.current.mode === 'ondemand' && (input.current.imposed === true || exitsOf(input).length > 0)
}

const exitsOf = (input: EngineInput) => (input.spotExits ?? []).filter((t) => t <= input.now)

/** When the flapping budget lets the workload back to spot (epoch ms), or null when it is not spent. */
export function flappingUntil(input: EngineInput, params: EngineParams): number | null {
  const windowMs = params.flap_window_hours * HOUR_MS
  const recent = exitsOf(input)
    .filter((t) => t > input.now - windowMs)
    .sort((a, b) => b - a)
  const oldestCounted = recent[params.flap_max_spot_exits - 1]
  return oldestCounted === undefined ? null : oldestCounted + windowMs
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')

/** The words of a move back to spot (and, when the flapping budget holds it, until when). */
export function backToSpotReasons(input: EngineInput, params: EngineParams): string[] {
  const cause = input.current.imposed
    ? 'an interruption left the workload on on-demand'
    : 'the workload left spot for on-demand'
  const words = [`back to spot: ${cause} at ${iso(input.current.since)}; a spot pool is safe again`]
  const until = flappingUntil(input, params)
  if (until !== null)
    words.push(
      `flapping budget spent: left spot ${params.flap_max_spot_exits} times within ` +
        `${params.flap_window_hours} h; back to spot from ${iso(until)}`,
    )
  return words
}
