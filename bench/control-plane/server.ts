/**
 * The benchmark's own control plane: a test worker (test/support/worker.ts) with `D1_METER=on`, so
 * the Worker counts D1's `meta.rows_written` (src/db/d1-meter.ts; read through
 * GET /__debug/d1-rows-written). That is wrangler dev started through wrangler's API with no file
 * watcher and no inspector, on a frozen bundle of the tree taken at start: with the CLI's inspector,
 * wrangler relays every devtools Network event of every subrequest (D1 queries, Durable Object calls)
 * to its Node process, which on 2 cores cost as much CPU as the Worker itself; and a reload in the
 * middle of a load run answers 503.
 *
 * Two doors to the same Worker and state: `url` through wrangler's proxy (what `wrangler dev` serves)
 * and `runtimeUrl`, the workerd runtime's own port behind it.
 */
import { startTestWorker } from '../../test/support/worker'

export interface BenchServer {
  /** Through wrangler dev's proxy. */
  url: string
  /** The workerd runtime directly, without wrangler's proxy. */
  runtimeUrl: string
  adminToken: string
  /** Process group of wrangler dev (its workerd's CPU and memory are read from /proc). */
  readonly pid: number
  /** fetch with the admin bearer and a JSON body. */
  admin(path: string, body?: unknown): Promise<Response>
  /** D1 rows written since the last reset, in all and by statement kind and table. */
  rowsWritten(): Promise<{ total: number; byStatement: Record<string, number> }>
  resetRowsWritten(): Promise<void>
  /** Runs the scheduled handler for a cron of wrangler.toml; resolves when the run is over. */
  scheduled(cron: string): Promise<void>
  stop(): Promise<void>
}

/** `vars`: more of the Worker's vars (e.g. SIM_CLOCK). */
export async function startBenchServer(vars: Record<string, string> = {}): Promise<BenchServer> {
  const worker = await startTestWorker({ D1_METER: 'on', ...vars })
  const admin = (path: string, body?: unknown) =>
    worker.admin(path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) })
  return {
    url: worker.url,
    runtimeUrl: worker.runtimeUrl,
    adminToken: worker.adminToken,
    get pid() {
      return worker.pid
    },
    admin,
    async rowsWritten() {
      const res = await admin('/__debug/d1-rows-written')
      if (!res.ok) throw new Error(`d1 meter: HTTP ${res.status} (is D1_METER on?)`)
      const body = (await res.json()) as { rows_written: number; by_statement: Record<string, number> }
      return { total: body.rows_written, byStatement: body.by_statement }
    },
    async resetRowsWritten() {
      const res = await admin('/__debug/d1-rows-written/reset', {})
      if (!res.ok) throw new Error(`d1 meter reset: HTTP ${res.status}`)
    },
    scheduled: (cron) => worker.scheduled(cron),
    stop: () => worker.stop(),
  }
}
