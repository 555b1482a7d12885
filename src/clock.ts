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
    const real = Date.now()
    return speed === 1 ? real : origin + (real - origin) * speed
  },
  /** The real epoch ms at which the clock shows `at` (what a Durable Object alarm is set to). */
  realTimeOf(at: number): number {
    return speed === 1 ? at : origin + (at - origin) / speed
  },
}

/** Reads `SIM_CLOCK` once per isolate (every entry point calls it; the env is the same for all). */
export function configureClock(env: { SIM_CLOCK?: string }): void {
  const match = /^(\d+)x(\d+(?:\.\d+)?)$/.exec(env.SIM_CLOCK ?? '')
  origin = match ? Number(match[1]) : 0
  speed = match ? Number(match[2]) : 1
}
