/**
 * Counts Durable Object requests by kind for the usage benchmark (bench/usage.ts), the way Cloudflare
 * bills them: every RPC call (`rpc engineTick`, `rpc heartbeat`...), every alarm, every incoming
 * socket message that wakes the object (`message heartbeat`...; auto-responded pings never reach it).
 * With each count the milliseconds the request kept the object busy (RPC: the caller's round trip, an
 * upper bound). One counter per isolate: under `wrangler dev` the Worker and its objects share it, and
 * the operator reads it through GET /__debug/do-requests when the Worker runs with `D1_METER=on`.
 */

export interface RequestCount {
  count: number
  /** Summed busy time, ms. */
  ms: number
}

let counts = new Map<string, RequestCount>()

export function countDoRequest(kind: string, ms: number): void {
  const current = counts.get(kind) ?? { count: 0, ms: 0 }
  counts.set(kind, { count: current.count + 1, ms: current.ms + ms })
}

/** Requests since the isolate started (or the last reset), by kind. */
export function readDoRequests(): Record<string, RequestCount> {
  return Object.fromEntries(counts)
}

export function resetDoRequests(): void {
  counts = new Map()
}

/**
 * The stub with every method call counted as `rpc <method>` (fetch: the socket's connect). The
 * caller checks that the meter is on: in production stubs are not wrapped.
 */
export function meteredStub<T extends object>(stub: T): T {
  return new Proxy(stub, {
    get(target, property) {
      // A stub answers any name with a callable RPC property; these few are its own.
      if (typeof property !== 'string' || STUB_FIELDS.has(property)) return Reflect.get(target, property)
      return (...args: unknown[]) => {
        const started = performance.now()
        const settle = () => countDoRequest(`rpc ${property}`, performance.now() - started)
        const method = (target as Record<string, (...a: unknown[]) => unknown>)[property]!
        return Promise.resolve(Reflect.apply(method, target, args)).finally(settle)
      }
    },
  })
}

/** Fields of a Durable Object stub that are not RPC methods (`then`: a stub is not a promise). */
const STUB_FIELDS = new Set(['then', 'id', 'name'])
