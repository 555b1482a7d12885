/**
 * Billable usage per agent-hour, measured: a crowd of lightweight agents of one kind (installed
 * pollers or new push agents) runs against wrangler dev on a cadence sped up `speed` times; requests
 * per route are counted at the client, Worker CPU from workerd's /proc counters, D1 rows from the table
 * counts before and after (rows inserted: a lower bound of rows written).
 */
import { readFileSync } from 'node:fs'
import { LEGACY_CADENCE } from '../test/emulators/legacy-agent'
import { createClient } from '../test/support/clients'
import { queryD1 } from '../test/support/d1'
import { eventually } from '../test/support/eventually'
import { startTestWorker, type TestWorker } from '../test/support/worker'
import { Metrics } from '../test/load/metrics'
import { LegacyAgent } from '../test/emulators/legacy-agent'
import { PushAgent } from '../test/load/push-agent'
import { liveGroupMembers } from '../scripts/fleet/processes'

export type AgentKind = 'legacy' | 'push'

export interface UsageMeasurement {
  kind: AgentKind
  agents: number
  /** Simulated agent-hours the counts cover. */
  agentHours: number
  requestsByRoute: Record<string, number>
  workerRequestsPerAgentHour: number
  /** Requests of the routes that call the agent's Durable Object (register, heartbeat, commands, stream). */
  doRequestsPerAgentHour: number
  webSocketMessagesPerAgentHour: number
  /** workerd CPU (Worker, Durable Objects and local D1 together: an upper bound) per request. */
  cpuMsPerRequest: number
  /** Median latency of the Durable Object routes: an upper bound of an object's active time per request. */
  doRouteP50Ms: number
  d1RowsInsertedPerAgentHour: number
  /** D1 rows written by the agent API (D1's meta.rows_written summed by the Worker's D1 meter). */
  d1RowsWrittenPerAgentHour: number | null
  errors: number
}

/** Agent API routes whose handler calls the agent's Durable Object (one RPC each). */
const DO_ROUTES = new Set(['register', 'heartbeat', 'pending-commands', 'executed', 'mark-command-executed', 'stream (connect)'])

export async function measureUsage(kind: AgentKind, options: { agents: number; speed: number; seconds: number }): Promise<UsageMeasurement> {
  const worker = await startTestWorker({ D1_METER: 'on' })
  try {
    const token = (await createClient(worker.url, worker.adminToken, `bench-${kind}`)).token
    const warmup = new Metrics()
    const crowd = startAgents(kind, worker.url, token, options.agents, options.speed, warmup)
    await eventually(() => crowd.every((a) => a.agentId !== null), { what: 'agents registered', timeoutMs: 60_000 })
    const measured = new Metrics()
    for (const agent of crowd) agent.recorder = measured
    const rowsBefore = await countRows(worker)
    await worker.admin('/__debug/d1-rows-written/reset', { method: 'POST' })
    const cpuBefore = workerdCpuMs(worker)
    const startedAt = Date.now()
    await eventually(() => Date.now() - startedAt >= options.seconds * 1000, { what: 'the measuring window', timeoutMs: options.seconds * 1000 + 5_000, intervalMs: 500 })
    const cpuMs = workerdCpuMs(worker) - cpuBefore
    await Promise.all(crowd.map((a) => a.stop()))
    const meter = await worker.admin('/__debug/d1-rows-written').then((r) => (r.ok ? (r.json() as Promise<{ rows_written: number }>) : null))
    const rowsAfter = await countRows(worker)
    const agentHours = (options.agents * (Date.now() - startedAt) * options.speed) / 3_600_000
    const table = measured.table()
    const requestsByRoute = Object.fromEntries(table.map((r) => [r.route, r.count]))
    const requests = measured.requests
    const doRequests = table.filter((r) => DO_ROUTES.has(r.route)).reduce((sum, r) => sum + r.count, 0)
    const doTable = table.filter((r) => DO_ROUTES.has(r.route))
    const doRouteP50Ms = doTable.reduce((sum, r) => sum + r.p50Ms * r.count, 0) / Math.max(1, doRequests)
    return {
      kind,
      agents: options.agents,
      agentHours: round(agentHours),
      requestsByRoute,
      workerRequestsPerAgentHour: round(requests / agentHours),
      doRequestsPerAgentHour: round(doRequests / agentHours),
      webSocketMessagesPerAgentHour: round(crowd.reduce((sum, a) => sum + a.messagesSent, 0) / agentHours),
      cpuMsPerRequest: round(cpuMs / Math.max(1, requests)),
      doRouteP50Ms: round(doRouteP50Ms),
      d1RowsInsertedPerAgentHour: round((rowsAfter - rowsBefore) / agentHours),
      d1RowsWrittenPerAgentHour: typeof meter?.rows_written === 'number' ? round(meter.rows_written / agentHours) : null,
      errors: measured.errors,
    }
  } finally {
    await worker.stop()
  }
}

interface MeasuredAgent {
  agentId: string | null
  recorder: Metrics
  messagesSent: number
  stop(): Promise<void>
}

function startAgents(kind: AgentKind, serverUrl: string, token: string, count: number, speed: number, metrics: Metrics): MeasuredAgent[] {
  const agents: MeasuredAgent[] = []
  for (let i = 0; i < count; i++) {
    const holder: MeasuredAgent = { agentId: null, recorder: metrics, messagesSent: 0, stop: async () => {} }
    const recorder = { record: (route: string, ms: number, status: number) => holder.recorder.record(route, ms, status) }
    if (kind === 'legacy') {
      const cadence = Object.fromEntries(Object.entries(LEGACY_CADENCE).map(([k, v]) => [k, v / speed]))
      const agent = new LegacyAgent({
        serverUrl,
        identity: { version: '4.0.0', token, logicalAgentId: `bench-${i}`, instanceId: `i-${i.toString(16).padStart(17, '0')}`, instanceType: 't3.medium', region: 'us-east-1', az: 'us-east-1a', mode: 'spot' },
        cadence,
        recorder,
        startDelayMs: (i * 2_000) / count,
      })
      agent.start()
      Object.defineProperty(holder, 'agentId', { get: () => agent.agentId })
      holder.stop = () => agent.stop()
    } else {
      const agent = new PushAgent({ serverUrl, token, logicalAgentId: `bench-${i}`, recorder, onExecute: () => {}, cadence: { heartbeat: 30 / speed, pricing: 300 / speed }, startDelayMs: (i * 2_000) / count })
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
  const tables = await queryD1<{ name: string }>(worker.persistDir, "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%' and name != 'd1_migrations'")
  if (tables.length === 0) return 0
  const sql = `select ${tables.map((t) => `(select count(*) from "${t.name}")`).join(' + ')} as n`
  const [row] = await queryD1<{ n: number }>(worker.persistDir, sql)
  return row?.n ?? 0
}

/** CPU time (user + system, ms) of the workerd processes of the test Worker. */
function workerdCpuMs(worker: TestWorker): number {
  let ticks = 0
  for (const pid of liveGroupMembers(worker.pid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      if (!stat.includes('(workerd)')) continue
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // Ended meanwhile.
    }
  }
  return ticks * 10 // USER_HZ is 100 on Linux.
}

function round(value: number): number {
  return Math.round(value * 100) / 100
}
