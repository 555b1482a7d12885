/** Time as a dependency: every wait goes through it, so tests advance time instead of sleeping. */
export interface Clock {
  /** Epoch ms. */
  now(): number
  /** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  /** Simulated ms per real ms (a local simulation's clock); absent means 1, real time. */
  readonly speed?: number
}

/**
 * Real ms since `since` (epoch ms of this clock): a network round trip takes real time however fast a
 * simulated clock runs, so waits on the network are judged on it.
 */
export function realMsSince(clock: Clock, since: number): number {
  return (clock.now() - since) / (clock.speed ?? 1)
}

export const systemClock: Clock = scaledClock(0, 1)

/**
 * A clock running `speed` times faster than real time from `origin` (epoch ms): a local simulation's
 * (SPOTGUARD_SIM_CLOCK), the same formula the simulated region and the control plane use.
 */
export function scaledClock(origin: number, speed: number): Clock {
  return {
    speed,
    now: () => (speed === 1 ? Date.now() : origin + (Date.now() - origin) * speed),
    sleep(ms, signal) {
      return new Promise((resolve) => {
        if (signal?.aborted) return resolve()
        const done = () => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', done)
          resolve()
        }
        const timer = setTimeout(done, Math.max(0, ms / speed))
        signal?.addEventListener('abort', done, { once: true })
      })
    },
  }
}

/** Exponential backoff with a cap, in ms: attempt 0 → base. */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30))
}

/** ISO-8601 UTC of an epoch ms. */
export function iso(ms: number): string {
  return new Date(ms).toISOString()
}
