/**
 * Projected monthly Cloudflare bill of a SpotGuard fleet on Workers Paid, from usage measured per
 * agent-hour. Prices are the published Workers Paid list prices (USD), stated in every result.
 */

/** Workers Paid list prices used by the projection (developers.cloudflare.com pricing pages). */
export const WORKERS_PAID_PRICES = {
  baseMonthly: 5,
  workerRequestsIncluded: 10_000_000,
  workerRequestsPerMillion: 0.3,
  workerCpuMsIncluded: 30_000_000,
  workerCpuMsPerMillion: 0.02,
  doRequestsIncluded: 1_000_000,
  doRequestsPerMillion: 0.15,
  /** Incoming WebSocket messages are billed as DO requests at 20:1. */
  doWebSocketMessagesPerRequest: 20,
  doGbSecondsIncluded: 400_000,
  doGbSecondsPerMillion: 12.5,
  /** Duration is billed at 128 MB per active object. */
  doMemoryGb: 0.128,
  d1RowsReadIncluded: 25_000_000_000,
  d1RowsReadPerMillion: 0.001,
  d1RowsWrittenIncluded: 50_000_000,
  d1RowsWrittenPerMillion: 1.0,
} as const

export type Prices = typeof WORKERS_PAID_PRICES

/** What one agent costs per hour of running, in billable units. */
export interface UsagePerAgentHour {
  /** HTTP requests to the Worker (agent API calls and WebSocket upgrades). */
  workerRequests: number
  /** Worker CPU milliseconds per request. */
  cpuMsPerRequest: number
  /** Durable Object requests: RPC calls from the Worker and alarms (WebSocket messages counted apart). */
  doRequests: number
  /** Incoming WebSocket messages to the agent's object. */
  webSocketMessages: number
  /** Seconds a Durable Object is active (not hibernatable). */
  doActiveSeconds: number
  d1RowsRead: number
  d1RowsWritten: number
}

export interface BillLine {
  item: string
  quantity: number
  included: number
  usd: number
}

export interface Bill {
  agents: number
  hoursPerMonth: number
  lines: BillLine[]
  totalUsd: number
  perAgentUsd: number
}

/** Hours in an average month (8,760 / 12). */
export const HOURS_PER_MONTH = 730

/** Fleet-wide crons (every 5 minutes and hourly): one Worker request each, whatever the fleet size. */
const CRON_INVOCATIONS_PER_MONTH = (12 + 1) * HOURS_PER_MONTH

/**
 * The 5-minute engine cron decides for each client's agents together and calls an agent's Durable
 * Object only to queue a command (flows/engine-tick/client-run.ts): one request per switch it queues,
 * which the default guardrails cap at 10 per agent a week (max_switches_per_week). A settled fleet
 * queues none (test/worker/engine/engine-cost.test.ts); this is the upper bound.
 */
export const ENGINE_DO_REQUESTS_PER_AGENT_HOUR = 10 / 168

export function projectMonthlyBill(agents: number, usage: UsagePerAgentHour, prices: Prices = WORKERS_PAID_PRICES): Bill {
  const agentHours = agents * HOURS_PER_MONTH
  const over = (quantity: number, included: number, perMillion: number) => (Math.max(0, quantity - included) / 1e6) * perMillion
  const workerRequests = agentHours * usage.workerRequests + CRON_INVOCATIONS_PER_MONTH
  const cpuMs = workerRequests * usage.cpuMsPerRequest
  const doRequestsPerAgentHour =
    usage.doRequests + ENGINE_DO_REQUESTS_PER_AGENT_HOUR + usage.webSocketMessages / prices.doWebSocketMessagesPerRequest
  const doRequests = agentHours * doRequestsPerAgentHour
  const gbSeconds = agentHours * usage.doActiveSeconds * prices.doMemoryGb
  const rowsRead = agentHours * usage.d1RowsRead
  const rowsWritten = agentHours * usage.d1RowsWritten
  const lines: BillLine[] = [
    { item: 'Workers Paid base', quantity: 1, included: 0, usd: prices.baseMonthly },
    { item: 'Worker requests', quantity: workerRequests, included: prices.workerRequestsIncluded, usd: over(workerRequests, prices.workerRequestsIncluded, prices.workerRequestsPerMillion) },
    { item: 'Worker CPU ms', quantity: cpuMs, included: prices.workerCpuMsIncluded, usd: over(cpuMs, prices.workerCpuMsIncluded, prices.workerCpuMsPerMillion) },
    { item: 'Durable Object requests', quantity: doRequests, included: prices.doRequestsIncluded, usd: over(doRequests, prices.doRequestsIncluded, prices.doRequestsPerMillion) },
    { item: 'Durable Object GB-s', quantity: gbSeconds, included: prices.doGbSecondsIncluded, usd: over(gbSeconds, prices.doGbSecondsIncluded, prices.doGbSecondsPerMillion) },
    { item: 'D1 rows read', quantity: rowsRead, included: prices.d1RowsReadIncluded, usd: over(rowsRead, prices.d1RowsReadIncluded, prices.d1RowsReadPerMillion) },
    { item: 'D1 rows written', quantity: rowsWritten, included: prices.d1RowsWrittenIncluded, usd: over(rowsWritten, prices.d1RowsWrittenIncluded, prices.d1RowsWrittenPerMillion) },
  ]
  const totalUsd = round(lines.reduce((sum, line) => sum + line.usd, 0))
  return {
    agents,
    hoursPerMonth: HOURS_PER_MONTH,
    lines: lines.map((line) => ({ ...line, quantity: Math.round(line.quantity), usd: round(line.usd) })),
    totalUsd,
    perAgentUsd: round(totalUsd / agents, 4),
  }
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}
