/**
 * The Worker's time, epoch ms. Deployed, it is the runtime's clock. A local simulation runs the whole
 * system faster than real time: the `SIM_CLOCK` var (`<origin epoch ms>x<speed>`, set only by the
 * local scripts, never by wrangler.toml) makes time run `speed` times faster from `origin`, the same
 * formula the simulator, its fakes and its agents use, so every part agrees without talking.
 */

let origin = 0
let speed = 1

export const clock = {
  /** Now, epoch ms. */
  now(): number {
    return clock.timeOfReal(Date.now())
  },
  /** What the clock showed at the real epoch ms `real` (a runtime timestamp, e.g. a socket's last ping). */
  timeOfReal(real: number): number {
    return speed === 1 ? real : origin + (real - origin) * speed
  },
  /** The real epoch ms at which the clock shows `at` (what a Durable Object alarm is set to). */
  realTimeOf(at: number): number {
    return speed === 1 ? at : origin + (at - origin) / speed
  },
}

/** Sets the simulated clock (`settingsOf(env).simClock`; every entry point calls it), or the real one. */
export function configureClock(sim: { origin: number; speed: number } | null): void {
  origin = sim?.origin ?? 0
  speed = sim?.speed ?? 1
}
