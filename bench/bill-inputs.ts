/**
 * The bill's inputs per agent-hour from what was measured: the counts of a usage run (bench/usage.ts:
 * requests by route, cron runs, object requests by kind with their time) and the CPU of each kind of
 * operation (bench/cpu-attribution.ts). Worker CPU is the Worker's invocations only (routes and
 * crons); object duration is the time objects are active handling what the meter counted.
 */
import type { UsagePerAgentHour } from './cost'
import { FIVE_MINUTE_CRON, HOURLY_CRON, type CpuAttribution } from './cpu-attribution'
import type { UsageMeasurement } from './usage'

/** D1 rows read are not observable under wrangler dev; assumed per request (their price is $0.001/M). */
export const ASSUMED_D1_ROWS_READ_PER_REQUEST = 20

/** Runs an hour of each cron of wrangler.toml. */
const CRON_RUNS_PER_HOUR: Record<string, number> = { [FIVE_MINUTE_CRON]: 12, [HOURLY_CRON]: 1 }

/** A share of the bill per agent-hour, by the operation that spends it. */
export interface Attributed {
  total: number
  byOperation: Record<string, number>
  /** Operations counted in the usage run with no CPU measured: priced as the costliest measured route. */
  unmeasured: string[]
}

/**
 * Worker CPU ms per agent-hour: each route's requests per agent-hour × its CPU per request, and each
 * cron's runs per hour × its CPU per run shared by the agents it ran for.
 */
export function workerCpuMsPerAgentHour(usage: UsageMeasurement, cpu: CpuAttribution): Attributed {
  const routes = Object.entries(cpu.worker).filter(([name]) => !name.startsWith('cron '))
  const costliest = Math.max(...routes.map(([, op]) => op.msEach))
  const byOperation: Record<string, number> = {}
  const unmeasured: string[] = []
  for (const [route, count] of Object.entries(usage.requestsByRoute)) {
    const measured = cpu.worker[route]
    if (!measured) unmeasured.push(route)
    byOperation[route] = (count / usage.agentHours) * (measured?.msEach ?? costliest)
  }
  for (const [cron, runs] of Object.entries(CRON_RUNS_PER_HOUR)) {
    const measured = cpu.worker[`cron ${cron}`]
    if (!measured) unmeasured.push(`cron ${cron}`)
    else byOperation[`cron ${cron}`] = (runs * measured.msEach) / cpu.agents
  }
  return summed(byOperation, unmeasured)
}

/**
 * Seconds objects are active per agent-hour: each request kind per agent-hour × the meter's time per
 * request. RPC: the caller's round trip; alarms and socket messages: the handler's wall time, CPU
 * included (local workerd's clock runs while code runs: test/worker/debug/request-meter.test.ts).
 */
export function doActiveSecondsPerAgentHour(usage: UsageMeasurement): Attributed {
  const byOperation: Record<string, number> = {}
  for (const [kind, perHour] of Object.entries(usage.doRequestsByKindPerAgentHour))
    byOperation[kind] = (perHour * (usage.doMsEachByKind[kind] ?? 0)) / 1000
  return summed(byOperation, [])
}

export function usagePerAgentHour(usage: UsageMeasurement, cpu: CpuAttribution): UsagePerAgentHour {
  return {
    workerRequests: usage.workerRequestsPerAgentHour,
    workerCpuMs: workerCpuMsPerAgentHour(usage, cpu).total,
    doRequests: usage.doRequestsPerAgentHour,
    webSocketMessages: usage.wakingSocketMessagesPerAgentHour,
    doActiveSeconds: doActiveSecondsPerAgentHour(usage).total,
    d1RowsRead: usage.workerRequestsPerAgentHour * ASSUMED_D1_ROWS_READ_PER_REQUEST,
    d1RowsWritten: usage.d1RowsWrittenPerAgentHour ?? usage.d1RowsInsertedPerAgentHour,
  }
}

function summed(byOperation: Record<string, number>, unmeasured: string[]): Attributed {
  const rounded = Object.fromEntries(Object.entries(byOperation).map(([k, v]) => [k, round(v)]))
  const total = Object.values(byOperation).reduce((sum, v) => sum + v, 0)
  return { total: round(total), byOperation: rounded, unmeasured }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000
}
