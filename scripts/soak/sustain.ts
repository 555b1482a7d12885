/**
 * Whether the machine kept up with the simulated clock: at 80× a real second is 80 simulated ones, so
 * a slow Worker shows as simulated delays the agents act on (the 5.x agent gives the control plane 30 of
 * a notice's 120 simulated seconds, 375 ms real at 80×, before it launches a replacement on its own).
 */
import { readFileSync } from 'node:fs'
import type { D1Snapshot, SentNotice } from './snapshot'

/** Of a notice's 120 simulated seconds, what the 5.x agent gives the control plane before acting alone. */
export const CONTROL_PLANE_SHARE_S = 30

/**
 * Whether the run kept up with its speed: the control plane heard notices within the agent's share of
 * the budget (p50), and this process (fake EC2, IMDS) never stalled a second. When not, interruptions
 * took the agents' own path because the machine was slow, not because of the code.
 */
export function keptUp(notices: NoticeLatency, eventLoopDelayMaxMs: number): boolean {
  return (notices.p50_s ?? 0) <= CONTROL_PLANE_SHARE_S && eventLoopDelayMaxMs < 1_000
}

export interface NoticeLatency {
  /** Simulated seconds from the notice in IMDS to the control plane's record of it, per notice heard. */
  p50_s: number | null
  max_s: number | null
  /** Notices the control plane never recorded (the agent launched its replacement alone, or was gone). */
  unheard: number
}

export function noticeLatency(notices: readonly SentNotice[], d1: D1Snapshot): NoticeLatency {
  const seconds: number[] = []
  let unheard = 0
  for (const n of notices) {
    const heard = d1.events
      .filter(
        (e) => e.kind === 'termination_notice' && e.instanceId === n.instanceId && e.receivedAt >= n.sentAt,
      )
      .map((e) => e.receivedAt)
    if (heard.length === 0) unheard++
    else seconds.push((Math.min(...heard) - n.sentAt) / 1000)
  }
  seconds.sort((a, b) => a - b)
  const round = (x: number | undefined) => (x === undefined ? null : Math.round(x * 10) / 10)
  return { p50_s: round(seconds[Math.floor(seconds.length / 2)]), max_s: round(seconds.at(-1)), unheard }
}

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const TICKS_PER_SECOND = 100

/**
 * CPU seconds used by named groups of processes (the Worker's runtime, the agents, the soak itself with
 * its fakes), from /proc: what a run at this speed costs, and what bounds it.
 */
export class CpuMeter {
  private readonly seen = new Map<number, { group: string; seconds: number }>()

  /** Reads the CPU time of each pid now (a pid keeps the group it was first seen in). */
  sample(groups: Record<string, readonly number[]>): void {
    for (const [group, pids] of Object.entries(groups)) {
      for (const pid of pids) {
        const seconds = cpuSecondsOf(pid)
        if (seconds === null) continue
        this.seen.set(pid, { group: this.seen.get(pid)?.group ?? group, seconds })
      }
    }
  }

  /** CPU seconds per group so far. */
  totals(): Record<string, number> {
    const totals: Record<string, number> = {}
    for (const { group, seconds } of this.seen.values()) totals[group] = (totals[group] ?? 0) + seconds
    return totals
  }
}

function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return null // gone
  }
}

/** How long GET /health takes, real ms (a slow Worker is simulated minutes at 80×). */
export async function healthMs(url: string): Promise<number> {
  const started = Date.now()
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) }).catch(() => null)
  await response?.body?.cancel()
  return Date.now() - started
}

/** CPU seconds per group as cores used on average over the run. */
export function cpuCores(seconds: Record<string, number>, realSeconds: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(seconds).map(([group, s]) => [group, Math.round((s / realSeconds) * 100) / 100]),
  )
}
