/**
 * Runs each monitor on its own cadence and hands every NEW notice to the handler once: notices are
 * deduplicated by id, so a notice that stays in IMDS for two minutes is acted on once.
 */
import type { Clock } from '../clock'
import type { Log } from '../log'
import type { Notice } from './notice'

export interface Monitor {
  name: string
  /** Ms between reads. */
  intervalMs: number
  read(): Promise<Notice | Notice[] | null>
}

export interface Watcher {
  /** Reads every monitor once (the loops call it; tests call it directly). */
  pollOnce(monitor: Monitor): Promise<void>
  run(signal: AbortSignal): Promise<void>
}

export function createWatcher(
  monitors: Monitor[],
  onNotice: (n: Notice) => void,
  clock: Clock,
  log: Log,
): Watcher {
  const seen = new Set<string>()
  const failing = new Set<string>()

  async function pollOnce(monitor: Monitor) {
    try {
      const found = await monitor.read()
      if (failing.delete(monitor.name)) log.info('monitor recovered', { monitor: monitor.name })
      for (const notice of found === null ? [] : Array.isArray(found) ? found : [found]) {
        if (seen.has(notice.id)) continue
        seen.add(notice.id)
        log.info('notice observed', { monitor: monitor.name, notice })
        onNotice(notice)
      }
    } catch (err) {
      // One line per outage, not one per poll.
      if (!failing.has(monitor.name)) log.warn('monitor read failed', { monitor: monitor.name, error: err })
      failing.add(monitor.name)
    }
  }

  return {
    pollOnce,
    async run(signal) {
      await Promise.all(
        monitors.map(async (m) => {
          while (!signal.aborted) {
            await pollOnce(m)
            await clock.sleep(m.intervalMs, signal)
          }
        }),
      )
    },
  }
}
