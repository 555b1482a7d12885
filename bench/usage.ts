/**
 * Billable usage per agent-hour, measured: a crowd of lightweight agents of one kind (installed
 * pollers or new push agents) runs against wrangler dev with everything sped up `speed` times (the
 * agents' cadence and the Worker's simulated clock, so alarms and silence checks keep their real
 * rate per agent-hour), while this bench fires the 5-minute cron (engine, webhooks, instances) every
 * 5 simulated minutes as Cloudflare would. Counted: requests per route at the client; Durable Object
 * requests by kind inside the Worker (session/request-meter.ts: every RPC, alarm and socket message
 * that wakes an object, with its time) and the alarms set; workerd's whole CPU from /proc (an upper
 * bound: the bill's Worker CPU is attributed by operation, bench/bill-inputs.ts); D1 rows written by
 * the Worker's D1 meter, and the database's growth.
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { LEGACY_CADENCE } from '../test/emulators/legacy-agent'
import { createClient } from '../test/support/clients'
import { queryD1 } from '../test/support/d1'
import { eventually } from '../test/support/eventually'
import { startTestWorker, type TestWorker } from '../test/support/worker'
import { Metrics } from '../test/load/metrics'
import { LegacyAgent } from '../test/emulators/legacy-agent'
import { PushAgent } from '../test/load/push-agent'
import { workerdCpuMs } from './workerd'

export type AgentKind = 'legacy' | 'push'

export interface UsageMeasurement {
  kind: AgentKind
  agents: number
  /** Simulated agent-hours the counts cover. */
  agentHours: number
  /** Times the 5-minute cron ran in the window (engine included). */
  cronRuns: number
  requestsByRoute: Record<string, number>
  workerRequestsPerAgentHour: number
  /**
   * Durable Object requests billed one each (RPC calls and alarms) per agent-hour; socket messages
   * that woke an object are in `wakingSocketMessagesPerAgentHour` (billed 20:1).
   */
  doRequestsPerAgentHour: number
  /** Every Durable Object request kind counted by the Worker (`rpc engineTick`, `alarm early`, `message ack`...). */
  doRequestsByKindPerAgentHour: Record<string, number>
  /**
   * The meter's time per request of each kind, ms: RPC, the caller's round trip; alarms and socket
   * messages, their handler's wall time (CPU included: local workerd's clock runs while code runs).
   */
  doMsEachByKind: Record<string, number>
  /** Alarms the objects set, by what they were armed for (`offline`, `command`, `sync`): storage writes. */
  alarmsSetByReasonPerAgentHour: Record<string, number>
  /** Socket messages the objects handled (woken), per agent-hour. */
  wakingSocketMessagesPerAgentHour: number
  /** Socket messages the agents sent, auto-answered pings included, per agent-hour. */
  webSocketMessagesPerAgentHour: number
  /** The meter's time summed per agent-hour, s: RPC round trips, alarm and message handlers. */
  doBusySecondsPerAgentHour: number
  /**
   * workerd CPU (Worker, Durable Objects, crons, local D1 and the idle runtime together: an upper bound)
   * per agent-hour; the bill's Worker CPU is attributed by operation instead (bench/bill-inputs.ts).
   */
  cpuMsPerAgentHour: number
  /** The same per agent request, for comparison with earlier runs. */
  cpuMsPerRequest: number
  d1RowsInsertedPerAgentHour: number
  /**
   * The database's growth per agent-hour, bytes: rows inserted × the local D1 file's bytes per row at
   * the window's end (indexes and free pages included); null when the file was not found.
   */
  d1BytesPerAgentHour: number | null
  /** D1 rows written (D1's meta.rows_written summed by the Worker's D1 meter), crons included. */
  d1RowsWrittenPerAgentHour: number | null
  /** The same by statement kind and table (`update agents`, `insert decisions`...). */
  d1RowsWrittenByStatementPerAgentHour: Record<string, number>
  errors: number
  errorsByRoute: Record<string, number>
}

interface MeterReading {
  by_kind: Record<string, { count: number; ms: number }>
  alarms_set: Record<string, number>
}

const FIVE_MINUTE_CRON = '*/5 * * * *'

export async function measureUsage(
  kind: AgentKind,
  options: { agents: number; speed: number; seconds: number },
): Promise<UsageMeasurement> {
  const worker = await startTestWorker({ D1_METER: 'on', SIM_CLOCK: `${Date.now()}x${options.speed}` })
  try {
    const token = (await createClient(worker.url, worker.adminToken, `bench-${kind}`)).token
    const warmup = new Metrics()
    // The runtime directly: wrangler's dev proxy answers some requests under load with its own 503
    // (test/load/front.ts), which never reach the Worker and would be missing from the counts.
    const crowd = startAgents(kind, worker.runtimeUrl, token, options.agents, options.speed, warmup)
    await eventually(() => crowd.every((a) => a.agentId !== null), {
      what: 'agents registered',
      timeoutMs: 60_000,
    })
    // One engine run before the window: its first run of an agent (segments, first decision) is not
    // steady state. wrangler answers /__scheduled when the run is over, which under the crowd may take
    // minutes (the installed crowd's did, 300 s): not waited for longer than a minute.
    await Promise.race([fireCron(worker), new Promise((r) => setTimeout(r, 60_000))])
    const measured = new Metrics()
    for (const agent of crowd) agent.recorder = measured
    const messagesBefore = crowd.reduce((sum, a) => sum + a.messagesSent, 0)
    const rowsBefore = await countRows(worker)
    await worker.admin('/__debug/d1-rows-written/reset', { method: 'POST' })
    await worker.admin('/__debug/do-requests/reset', { method: 'POST' })
    const cpuBefore = workerdCpuMs(worker.pid)
    const startedAt = Date.now()
    // Mid-period: a window of n periods holds n runs (at its end it would hold one too few).
    const cronEveryMs = 300_000 / options.speed
    let cronRuns = 0
    await eventually(
      async () => {
        const elapsed = Date.now() - startedAt
        if (elapsed >= (cronRuns + 0.5) * cronEveryMs && elapsed < options.seconds * 1000) {
          cronRuns += 1
          // Not awaited: the cron fires on time whether or not the last run is over, as on Cloudflare.
          void fireCron(worker)
        }
        return elapsed >= options.seconds * 1000
      },
      { what: 'the measuring window', timeoutMs: options.seconds * 1000 + 30_000, intervalMs: 250 },
    )
    const cpuMs = workerdCpuMs(worker.pid) - cpuBefore
    const endedAt = Date.now()
    const requests = measured.requests
    const table = measured.table()
    const requestsByRoute = Object.fromEntries(table.map((r) => [r.route, r.count]))
    const errorsByRoute = Object.fromEntries(
      table.filter((r) => r.errors > 0).map((r) => [r.route, r.errors]),
    )
    const errors = measured.errors
    const messagesSent = crowd.reduce((sum, a) => sum + a.messagesSent, 0) - messagesBefore
    // The meters at the window's end, while the crowd still runs (stopping it ends sockets: more requests).
    const [meter, objects] = await Promise.all([
      worker
        .admin('/__debug/d1-rows-written')
        .then((r) =>
          r.ok ? (r.json() as Promise<{ rows_written: number; by_statement: Record<string, number> }>) : null,
        ),
      worker.admin('/__debug/do-requests').then((r) => r.json() as Promise<MeterReading>),
    ])
    await Promise.all(crowd.map((a) => a.stop()))
    const rowsAfter = await countRows(worker)
    const bytesPerRow = rowsAfter > 0 ? (d1Bytes(worker.persistDir) ?? NaN) / rowsAfter : NaN
    const agentHours = (options.agents * (endedAt - startedAt) * options.speed) / 3_600_000
    const perHour = (n: number) => round(n / agentHours)
    const kinds = Object.entries(objects.by_kind)
    const billedOne = kinds.filter(([k]) => !k.startsWith('message '))
    const sum = (list: typeof kinds, field: 'count' | 'ms') =>
      list.reduce((total, [, v]) => total + v[field], 0)
    return {
      kind,
      agents: options.agents,
      agentHours: round(agentHours),
      cronRuns,
      requestsByRoute,
      workerRequestsPerAgentHour: perHour(requests),
      doRequestsPerAgentHour: perHour(sum(billedOne, 'count')),
      doRequestsByKindPerAgentHour: Object.fromEntries(kinds.map(([k, v]) => [k, perHour(v.count)])),
      doMsEachByKind: Object.fromEntries(kinds.map(([k, v]) => [k, round(v.ms / Math.max(1, v.count))])),
      alarmsSetByReasonPerAgentHour: Object.fromEntries(
        Object.entries(objects.alarms_set).map(([reason, n]) => [reason, perHour(n)]),
      ),
      wakingSocketMessagesPerAgentHour: perHour(
        sum(
          kinds.filter(([k]) => k.startsWith('message ')),
          'count',
        ),
      ),
      webSocketMessagesPerAgentHour: perHour(messagesSent),
      doBusySecondsPerAgentHour: perHour(sum(kinds, 'ms') / 1000),
      cpuMsPerAgentHour: perHour(cpuMs),
      cpuMsPerRequest: round(cpuMs / Math.max(1, requests)),
      d1RowsInsertedPerAgentHour: perHour(rowsAfter - rowsBefore),
      d1BytesPerAgentHour: Number.isFinite(bytesPerRow)
        ? perHour((rowsAfter - rowsBefore) * bytesPerRow)
        : null,
      d1RowsWrittenPerAgentHour: typeof meter?.rows_written === 'number' ? perHour(meter.rows_written) : null,
      d1RowsWrittenByStatementPerAgentHour: Object.fromEntries(
        Object.entries(meter?.by_statement ?? {}).map(([statement, rows]) => [statement, perHour(rows)]),
      ),
      errors,
      errorsByRoute,
    }
  } finally {
    await worker.stop()
  }
}

/** Fires the 5-minute cron; a run that fails or outlasts the fetch is logged (its counts still show). */
function fireCron(worker: TestWorker): Promise<void> {
  return worker.scheduled(FIVE_MINUTE_CRON).catch((error: unknown) => console.log(`cron: ${String(error)}`))
}

interface MeasuredAgent {
  agentId: string | null
  recorder: Metrics
  messagesSent: number
  stop(): Promise<void>
}

function startAgents(
  kind: AgentKind,
  serverUrl: string,
  token: string,
  count: number,
  speed: number,
  metrics: Metrics,
): MeasuredAgent[] {
  const agents: MeasuredAgent[] = []
  for (let i = 0; i < count; i++) {
    const holder: MeasuredAgent = { agentId: null, recorder: metrics, messagesSent: 0, stop: async () => {} }
    const recorder = {
      record: (route: string, ms: number, status: number) => holder.recorder.record(route, ms, status),
    }
    if (kind === 'legacy') {
      const cadence = Object.fromEntries(Object.entries(LEGACY_CADENCE).map(([k, v]) => [k, v / speed]))
      const agent = new LegacyAgent({
        serverUrl,
        identity: {
          version: '4.0.0',
          token,
          logicalAgentId: `bench-${i}`,
          instanceId: `i-${i.toString(16).padStart(17, '0')}`,
          instanceType: 't3.medium',
          region: 'us-east-1',
          az: 'us-east-1a',
          mode: 'spot',
        },
        cadence,
        recorder,
        startDelayMs: (i * 2_000) / count,
      })
      agent.start()
      Object.defineProperty(holder, 'agentId', { get: () => agent.agentId })
      holder.stop = () => agent.stop()
    } else {
      const agent = new PushAgent({
        serverUrl,
        token,
        logicalAgentId: `bench-${i}`,
        recorder,
        onExecute: () => {},
        cadence: { heartbeat: 30 / speed, pricing: 300 / speed },
        startDelayMs: (i * 2_000) / count,
      })
      agent.start()
      Object.defineProperty(holder, 'agentId', { get: () => agent.agentId })
      Object.defineProperty(holder, 'messagesSent', { get: () => agent.messagesSent })
      holder.stop = () => agent.stop()
    }
    agents.push(holder)
  }
  return agents
}

/** Rows in every application table of the local D1. */
async function countRows(worker: TestWorker): Promise<number> {
  const tables = await queryD1<{ name: string }>(
    worker.persistDir,
    "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%' and name != 'd1_migrations'",
  )
  if (tables.length === 0) return 0
  const sql = `select ${tables.map((t) => `(select count(*) from "${t.name}")`).join(' + ')} as n`
  const [row] = await queryD1<{ n: number }>(worker.persistDir, sql)
  return row?.n ?? 0
}

/** Bytes of the local D1's SQLite files (database and write-ahead log); null when there are none. */
function d1Bytes(persistDir: string): number | null {
  const dir = join(persistDir, 'v3', 'd1')
  try {
    const files = readdirSync(dir, { recursive: true }).map(String)
    const databases = files.filter((f) => /\.sqlite(-wal)?$/.test(f))
    return databases.length === 0 ? null : databases.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0)
  } catch {
    return null
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100
}
