/** Latency samples per route, errors, and the p50/p99 table the load test prints. */
import type { Recorder } from '../emulators/legacy-agent'

export interface RouteStats {
  route: string
  count: number
  errors: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

export class Metrics implements Recorder {
  private readonly samples = new Map<string, number[]>()
  private readonly failures = new Map<string, number>()
  /** The first few failures, for the report: route, status (0 = no answer) and when. */
  readonly firstErrors: { route: string; status: number; at: number }[] = []

  record(route: string, ms: number, status: number): void {
    const list = this.samples.get(route) ?? []
    list.push(ms)
    this.samples.set(route, list)
    // 0: no answer; 101 is a WebSocket accepted.
    if (status === 0 || status >= 400) {
      this.failures.set(route, (this.failures.get(route) ?? 0) + 1)
      if (this.firstErrors.length < 20) this.firstErrors.push({ route, status, at: Date.now() })
    }
  }

  get errors(): number {
    let total = 0
    for (const n of this.failures.values()) total += n
    return total
  }

  get requests(): number {
    let total = 0
    for (const list of this.samples.values()) total += list.length
    return total
  }

  table(): RouteStats[] {
    return [...this.samples.entries()]
      .map(([route, list]) => {
        const sorted = [...list].sort((a, b) => a - b)
        return {
          route,
          count: sorted.length,
          errors: this.failures.get(route) ?? 0,
          p50Ms: round(percentile(sorted, 0.5)),
          p99Ms: round(percentile(sorted, 0.99)),
          maxMs: round(sorted.at(-1) ?? 0),
        }
      })
      .sort((a, b) => b.count - a.count)
  }

  /** The table as aligned text. */
  format(): string {
    const rows = this.table().map((r) => [r.route, String(r.count), String(r.errors), r.p50Ms.toFixed(1), r.p99Ms.toFixed(1), r.maxMs.toFixed(1)])
    const header = ['route', 'requests', 'errors', 'p50 ms', 'p99 ms', 'max ms']
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
    return [header, ...rows].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n')
  }
}

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}
