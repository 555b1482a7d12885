/**
 * Latency samples per route, failures, and the p50/p99 table the load test prints. It also watches
 * this process's fetch and keeps the first failed answers whole (status, headers, body): a bare
 * status does not say who answered (the Worker, or wrangler dev's proxy during a reload).
 */
import type { Recorder } from '../emulators/legacy-agent'

export interface RouteStats {
  route: string
  count: number
  /** Requests that failed (non-2xx/3xx/101 or no answer). */
  errors: number
  /** Failed attempts that the agent retried (see `recordRetried`). */
  retried: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

/** What `Metrics.snapshot` keeps. */
export interface WindowFigures {
  errors: number
  retried: number
  requests: number
  overall: { p50Ms: number; p99Ms: number; maxMs: number }
  /** The same over HTTP requests only (socket round trips left out). */
  http: { p50Ms: number; p99Ms: number; maxMs: number }
  table: RouteStats[]
  byMinute: { minute: number; requests: number; p50Ms: number; p99Ms: number }[]
}

/** One failed answer as it came (status 0: no answer, `body` then holds the error). */
export interface FailedAnswer {
  at: string
  method: string
  path: string
  status: number
  headers: Record<string, string>
  body: string
}

const KEPT_FAILURES = 20
/** Routes that are round trips over an agent's socket, not HTTP requests. */
export const SOCKET_ROUTES = new Set(['socket heartbeat', 'command (socket)'])

export class Metrics implements Recorder {
  private readonly samples = new Map<string, number[]>()
  private readonly failures = new Map<string, number>()
  private readonly retries = new Map<string, number>()
  /** Latencies of every route per minute since `startedAt`: whether tails are the ramp or all along. */
  private readonly minutes: number[][] = []
  private readonly startedAt = Date.now()
  /** The first few failures, for the report: route, status (0 = no answer) and when. */
  readonly firstErrors: { route: string; status: number; at: string }[] = []
  /** The first few failed answers of any fetch of this process (see `watchFetch`). */
  readonly firstFailedAnswers: FailedAnswer[] = []

  /** `at`: when it ended (epoch ms; now by default), for the minute it counts in. */
  record(route: string, ms: number, status: number, at = Date.now()): void {
    this.sample(route, ms, at)
    // 0: no answer; 101 is a WebSocket accepted.
    if (status === 0 || status >= 400) {
      this.failures.set(route, (this.failures.get(route) ?? 0) + 1)
      if (this.firstErrors.length < KEPT_FAILURES)
        this.firstErrors.push({ route, status, at: new Date().toISOString() })
    }
  }

  /**
   * A failed request its agent tries again until it succeeds (a first registration): in the latency
   * samples and the `retried` count, not an error, since nothing was lost. The test still checks that
   * every agent got through.
   */
  recordRetried(route: string, ms: number, status: number): void {
    this.sample(route, ms)
    this.retries.set(route, (this.retries.get(route) ?? 0) + 1)
    if (this.firstErrors.length < KEPT_FAILURES)
      this.firstErrors.push({ route: `${route} (retried)`, status, at: new Date().toISOString() })
  }

  /** Retried requests of every route. */
  get retried(): number {
    let total = 0
    for (const n of this.retries.values()) total += n
    return total
  }

  /** Failed requests of every route. */
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

  /**
   * Wraps globalThis.fetch so that the first failed answers are kept with their headers and body
   * (read from a clone: the caller still gets the whole response). Returns the undo.
   */
  watchFetch(): () => void {
    const original = globalThis.fetch
    const keep = (answer: FailedAnswer) => {
      if (this.firstFailedAnswers.length < KEPT_FAILURES) this.firstFailedAnswers.push(answer)
    }
    globalThis.fetch = async (input, init) => {
      const request = new Request(input, init)
      const { pathname } = new URL(request.url)
      const at = new Date().toISOString()
      try {
        const response = await original(input, init)
        if (response.status >= 400 && this.firstFailedAnswers.length < KEPT_FAILURES) {
          const body = await response
            .clone()
            .text()
            .catch((error: unknown) => `(unreadable: ${String(error)})`)
          keep({
            at,
            method: request.method,
            path: pathname,
            status: response.status,
            headers: headersOf(response),
            body: body.slice(0, 500),
          })
        }
        return response
      } catch (error) {
        keep({ at, method: request.method, path: pathname, status: 0, headers: {}, body: describe(error) })
        throw error
      }
    }
    return () => {
      globalThis.fetch = original
    }
  }

  table(): RouteStats[] {
    return [...this.samples.entries()]
      .map(([route, list]) => {
        const sorted = [...list].sort((a, b) => a - b)
        return {
          route,
          count: sorted.length,
          errors: this.failures.get(route) ?? 0,
          retried: this.retries.get(route) ?? 0,
          p50Ms: round(percentile(sorted, 0.5)),
          p99Ms: round(percentile(sorted, 0.99)),
          maxMs: round(sorted.at(-1) ?? 0),
        }
      })
      .sort((a, b) => b.count - a.count)
  }

  /** The figures as they are now (the run goes on recording). */
  snapshot(): WindowFigures {
    return {
      errors: this.errors,
      retried: this.retried,
      requests: this.requests,
      overall: this.overall(),
      http: this.overall((route) => !SOCKET_ROUTES.has(route)),
      table: this.table(),
      byMinute: this.byMinute(),
    }
  }

  /** p50/p99 of every request of every route (or of the routes `include` keeps), the whole run. */
  overall(include: (route: string) => boolean = () => true): { p50Ms: number; p99Ms: number; maxMs: number } {
    const sorted = [...this.samples.entries()]
      .filter(([route]) => include(route))
      .flatMap(([, list]) => list)
      .sort((a, b) => a - b)
    return {
      p50Ms: round(percentile(sorted, 0.5)),
      p99Ms: round(percentile(sorted, 0.99)),
      maxMs: round(sorted.at(-1) ?? 0),
    }
  }

  /** Requests and p50/p99 of all routes per minute since the start. */
  byMinute(): { minute: number; requests: number; p50Ms: number; p99Ms: number }[] {
    return this.minutes.map((list, minute) => {
      const sorted = [...list].sort((a, b) => a - b)
      return {
        minute,
        requests: sorted.length,
        p50Ms: round(percentile(sorted, 0.5)),
        p99Ms: round(percentile(sorted, 0.99)),
      }
    })
  }

  /** p50/p99 of all routes per minute, one line. */
  timeline(): string {
    return this.byMinute()
      .map(
        (m) =>
          `min ${m.minute}: ${m.requests} req, p50 ${Math.round(m.p50Ms)} / p99 ${Math.round(m.p99Ms)} ms`,
      )
      .join('; ')
  }

  private sample(route: string, ms: number, at = Date.now()): void {
    const list = this.samples.get(route) ?? []
    list.push(ms)
    this.samples.set(route, list)
    const minute = Math.max(0, Math.floor((at - this.startedAt) / 60_000))
    for (let m = this.minutes.length; m <= minute; m++) this.minutes.push([])
    this.minutes[minute]!.push(ms)
  }

  /** The table as aligned text. */
  format(): string {
    const rows = this.table().map((r) => [
      r.route,
      String(r.count),
      String(r.errors),
      String(r.retried),
      r.p50Ms.toFixed(1),
      r.p99Ms.toFixed(1),
      r.maxMs.toFixed(1),
    ])
    const header = ['route', 'requests', 'failed', 'retried', 'p50 ms', 'p99 ms', 'max ms']
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
    return [header, ...rows].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n')
  }
}

/** An error with its cause: undici's "fetch failed" says why only there (ECONNRESET, a timeout...). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause =
    error.cause instanceof Error
      ? `: ${error.cause.name} ${(error.cause as { code?: string }).code ?? ''} ${error.cause.message}`
      : ''
  return `${error.name} ${error.message}${cause}`
}

function headersOf(response: Response): Record<string, string> {
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    headers[name] = value
  })
  return headers
}

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}
