/**
 * Counts Durable Object requests by kind for the usage benchmark (bench/usage.ts), the way Cloudflare
 * bills them: every RPC call (`rpc engineTick`, `rpc heartbeat`...), every alarm by what it rang for
 * (`alarm offline`, `alarm early`...), every incoming socket message that wakes the object (`message
 * heartbeat`...; auto-responded pings never reach it). With each count the milliseconds it took: RPC,
 * the caller's round trip; alarms and messages, the handler's wall time (local workerd's clock runs
 * while code runs; deployed, it stands still between I/O and these times would be waits only).
 * Apart from requests, the alarms set by what they were armed for (storage writes, not requests).
 * One counter per isolate: under `wrangler dev` the Worker and its objects share it, and the operator
 * reads it through GET /__debug/do-requests when the Worker runs with `D1_METER=on`.
 */

export interface RequestCount {
  count: number
  /** Summed time, ms. */
  ms: number
}

let counts = new Map<string, RequestCount>()
let alarmsSet = new Map<string, number>()

export function countDoRequest(kind: string, ms: number): void {
  const current = counts.get(kind) ?? { count: 0, ms: 0 }
  counts.set(kind, { count: current.count + 1, ms: current.ms + ms })
}

/** An object set its alarm, armed for `reason` (the earliest due time's kind). */
export function countAlarmSet(reason: string): void {
  alarmsSet.set(reason, (alarmsSet.get(reason) ?? 0) + 1)
}

/** Requests since the isolate started (or the last reset), by kind. */
export function readDoRequests(): Record<string, RequestCount> {
  return Object.fromEntries(counts)
}

/** Alarms set since the isolate started (or the last reset), by what they were armed for. */
export function readAlarmsSet(): Record<string, number> {
  return Object.fromEntries(alarmsSet)
}

export function resetDoRequests(): void {
  counts = new Map()
  alarmsSet = new Map()
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
