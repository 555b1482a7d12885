/** Time for the fakes: only an injected clock moves it, so tests never wait on timers. */

export interface Clock {
  /** Epoch ms */
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/**
 * Time running `speed` times faster than real time from `origin` (epoch ms): the simulated region's,
 * shared with the control plane (`SIM_CLOCK`) and the agents (`SPOTGUARD_SIM_CLOCK`) as `<origin>x<speed>`.
 */
export function scaledClock(origin: number, speed: number): Clock & { spec: string } {
  return { now: () => origin + (Date.now() - origin) * speed, spec: `${origin}x${speed}` }
}

export interface ManualClock extends Clock {
  advance(ms: number): void
  set(ms: number): void
}

/** A clock that moves only when told; the fakes apply what became due on their next request or `tick()`. */
export function manualClock(startMs = Date.parse('2026-01-01T00:00:00Z')): ManualClock {
  let now = startMs
  return {
    now: () => now,
    advance: (ms) => {
      now += ms
    },
    set: (ms) => {
      now = ms
    },
  }
}

/** ISO-8601 without milliseconds, as EC2 and IMDS print times. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}
