/** Clocks for the agent's unit tests: time moves only when the test (or a sleep) moves it. */
import type { Clock } from '../../../agent/src/clock'

/** Every sleep returns at once after moving time forward by its duration: polling loops run instantly. */
export function instantClock(startMs = Date.parse('2026-01-01T00:00:00Z')): Clock & { advance(ms: number): void; slept: number[] } {
  let now = startMs
  const slept: number[] = []
  return {
    now: () => now,
    advance(ms) {
      now += ms
    },
    slept,
    async sleep(ms, signal) {
      if (signal?.aborted) return
      slept.push(ms)
      now += Math.max(0, ms)
      await Promise.resolve()
    },
  }
}

/** Sleeps wait until the test advances time past them; `speed` plays a simulated clock's. */
export function manualClock(startMs = Date.parse('2026-01-01T00:00:00Z'), speed?: number) {
  let now = startMs
  const sleepers: Array<{ at: number; resolve: () => void }> = []
  const clock: Clock & { advance(ms: number): Promise<void>; readonly sleeping: number } = {
    speed,
    now: () => now,
    get sleeping() {
      return sleepers.length
    },
    sleep(ms, signal) {
      return new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve()
        const entry = { at: now + ms, resolve }
        sleepers.push(entry)
        signal?.addEventListener('abort', () => {
          // Already woken by advance(): nothing to remove (indexOf -1 would remove another sleeper).
          const i = sleepers.indexOf(entry)
          if (i >= 0) sleepers.splice(i, 1)
          resolve()
        }, { once: true })
      })
    },
    async advance(ms) {
      now += ms
      for (const s of sleepers.filter((x) => x.at <= now)) {
        sleepers.splice(sleepers.indexOf(s), 1)
        s.resolve()
      }
      // Let the woken code run up to its next await.
      for (let i = 0; i < 20; i++) await Promise.resolve()
    },
  }
  return clock
}
