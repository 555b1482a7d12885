/**
 * The load test's front door: a plain HTTP forwarder to the Worker's runtime under wrangler dev (the
 * user worker's own port), opening one upstream connection per request and following restarts.
 *
 * Why not wrangler dev's public port: its ProxyWorker reaches the runtime over pooled keep-alive
 * connections, and kj closes an idle one after 5 s on both ends. When the runtime stalls (a busy
 * 2-core machine), it closes connections that already carry a request; the ProxyWorker then answers
 * every such POST with `503 Your worker restarted mid-request` (it compares the request's full URL to
 * the runtime's bare origin, so it always believes a reload happened) and re-sends such GETs until one
 * goes through (seconds of tail latency). Upstream: workers-sdk#14641, #15252. A fresh connection per
 * request has no idle connection to lose; the front keeps the agents' own connections open longer than
 * they do (65 s), so they always close first.
 */
import { createServer, request, type IncomingHttpHeaders } from 'node:http'
import { connect, type AddressInfo } from 'node:net'

export interface Front {
  readonly url: string
  /**
   * Per minute since the start: requests forwarded, the most waiting at the gate at once, and the
   * runtime's own answer time (gate wait excluded) p99 overall and of the slowest route: whether a
   * tail is a queue in front of a busy runtime or one route that is slow inside it.
   */
  byMinute(): FrontMinute[]
  /** The runtime's own answer time (gate wait excluded) per route over the whole run, most requests first. */
  byRoute(): FrontRoute[]
  /** Points new requests at the runtime's new address (after a restart). */
  retarget(runtimeUrl: string): void
  close(): Promise<void>
}

export interface FrontMinute {
  minute: number
  requests: number
  maxWaiting: number
  runtimeP99Ms: number
  slowestRoute: string
  slowestRouteP99Ms: number
}

export interface FrontRoute {
  route: string
  requests: number
  runtimeP50Ms: number
  runtimeP99Ms: number
}

/** Connection-scoped headers that must not cross a proxy. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'])

/**
 * At most this many requests are inside the runtime at once; the others wait here, in order. The
 * runtime is one thread whose D1 runs one query at a time, so more does not add throughput; but a
 * connection it accepts and cannot read within 15 s (kj's header timeout) is hung up on, which an
 * overloaded dev runtime does to a crowd of 1,000. The wait counts in the agents' latency as it would
 * at any gateway; the agents' own 30 s timeout still applies.
 */
const MAX_IN_FLIGHT = 48

export async function startFront(runtimeUrl: string): Promise<Front> {
  let target = portOf(runtimeUrl)
  const gate = new Gate(MAX_IN_FLIGHT)
  const timings = new Timings()
  const server = createServer((incoming, outgoing) => {
    timings.waiting(gate.waitingNow)
    void gate.enter().then(() => {
      const entered = performance.now()
      let left = false
      const leave = () => {
        if (!left) gate.leave()
        left = true
      }
      // The agent gave up while it waited (its timeout): nothing to send.
      if (incoming.destroyed || outgoing.destroyed) return leave()
      const upstream = request(
        {
          host: '127.0.0.1',
          port: target,
          method: incoming.method,
          path: incoming.url,
          headers: { ...endToEnd(incoming.headers), connection: 'close' },
          agent: false,
        },
        (answer) => {
          timings.answered(incoming.method ?? 'GET', incoming.url ?? '/', performance.now() - entered)
          outgoing.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers))
          answer.pipe(outgoing)
        },
      )
      upstream.on('close', leave)
      upstream.on('error', (error) => {
        leave()
        // The runtime is down (a restart) or dropped us: the agent sees a 502, as behind any gateway.
        if (outgoing.headersSent) return void outgoing.destroy()
        outgoing.writeHead(502, { 'content-type': 'text/plain' }).end(`load front: ${error.message}`)
      })
      incoming.pipe(upstream)
    })
  })
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 66_000
  // WebSocket upgrades (push agents' streams): replay the request head, then splice the two sockets.
  server.on('upgrade', (incoming, socket, head) => {
    const upstream = connect(target, '127.0.0.1', () => {
      const lines = [`${incoming.method} ${incoming.url} HTTP/1.1`]
      for (let i = 0; i < incoming.rawHeaders.length; i += 2)
        lines.push(`${incoming.rawHeaders[i]}: ${incoming.rawHeaders[i + 1]}`)
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`)
      upstream.write(head)
      socket.pipe(upstream).pipe(socket)
    })
    upstream.on('error', () => socket.destroy())
    socket.on('error', () => upstream.destroy())
    upstream.on('close', () => socket.destroy())
    socket.on('close', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port: own } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${own}`,
    byMinute: () => timings.byMinute(),
    byRoute: () => timings.byRoute(),
    retarget(next) {
      target = portOf(next)
    },
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

function portOf(url: string): number {
  return Number(new URL(url).port)
}

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)))
}

/** The front's own view per minute (see `Front.byMinute`). */
class Timings {
  private readonly startedAt = performance.now()
  private readonly minutes: { maxWaiting: number; byRoute: Map<string, number[]> }[] = []

  waiting(count: number): void {
    const minute = this.current()
    minute.maxWaiting = Math.max(minute.maxWaiting, count)
  }

  /** The runtime's time to the answer's head, by route (`POST /api/agents/:id/heartbeat`). */
  answered(method: string, url: string, ms: number): void {
    const route = `${method} ${url.split('?')[0]!.replace(/\/(?:[a-z]{3}_|i-)[0-9a-f]+/g, '/:id')}`
    const byRoute = this.current().byRoute
    const list = byRoute.get(route)
    if (list) list.push(ms)
    else byRoute.set(route, [ms])
  }

  byRoute(): FrontRoute[] {
    const whole = new Map<string, number[]>()
    for (const { byRoute } of this.minutes)
      for (const [route, list] of byRoute) whole.set(route, (whole.get(route) ?? []).concat(list))
    return [...whole.entries()]
      .map(([route, list]) => ({
        route,
        requests: list.length,
        runtimeP50Ms: percentileOf(list, 0.5),
        runtimeP99Ms: percentileOf(list, 0.99),
      }))
      .sort((a, b) => b.requests - a.requests)
  }

  byMinute(): FrontMinute[] {
    return this.minutes.map(({ maxWaiting, byRoute }, minute) => {
      const all = [...byRoute.values()].flat()
      const slowest = [...byRoute.entries()]
        .map(([route, list]) => ({ route, p99: p99(list) }))
        .sort((a, b) => b.p99 - a.p99)[0]
      return {
        minute,
        requests: all.length,
        maxWaiting,
        runtimeP99Ms: p99(all),
        slowestRoute: slowest?.route ?? '',
        slowestRouteP99Ms: slowest?.p99 ?? 0,
      }
    })
  }

  private current() {
    const minute = Math.floor((performance.now() - this.startedAt) / 60_000)
    for (let m = this.minutes.length; m <= minute; m++)
      this.minutes.push({ maxWaiting: 0, byRoute: new Map() })
    return this.minutes[minute]!
  }
}

function p99(samples: number[]): number {
  return percentileOf(samples, 0.99)
}

/** Nearest-rank percentile, rounded to the ms. */
function percentileOf(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return Math.round(sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0)
}

/** A counting semaphore whose waiters enter first come, first served. */
class Gate {
  private inside = 0
  private readonly waiting: (() => void)[] = []

  constructor(private readonly capacity: number) {}

  /** Requests waiting for a place now. */
  get waitingNow(): number {
    return this.waiting.length
  }

  enter(): Promise<void> {
    if (this.inside < this.capacity) {
      this.inside += 1
      return Promise.resolve()
    }
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  /** Hands the place to the next waiter, if any. */
  leave(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.inside -= 1
  }
}
