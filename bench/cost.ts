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

/** What one agent costs per hour of running, in billable units (measured: bench/usage.ts). */
export interface UsagePerAgentHour {
  /** HTTP requests to the Worker (agent API calls and WebSocket upgrades). */
  workerRequests: number
  /** Worker CPU milliseconds (the agent's requests and its share of the crons). */
  workerCpuMs: number
  /** Durable Object requests billed one each: RPC calls (engine runs included) and alarms. */
  doRequests: number
  /** Incoming WebSocket messages that wake the agent's object (billed 20:1). */
  webSocketMessages: number
  /** Seconds a Durable Object is active (not hibernated). */
  doActiveSeconds: number
  d1RowsRead: number
  d1RowsWritten: number
}

/** The budget lines of issue 13: what each may cost beyond the base, in USD per 1,000 agents a month. */
export const BUDGET_PER_1000_AGENTS = [
  { budget: 'Worker requests + CPU', items: ['Worker requests', 'Worker CPU ms'], usd: 0.4 },
  { budget: 'Durable Object requests', items: ['Durable Object requests'], usd: 0.4 },
  { budget: 'Durable Object duration', items: ['Durable Object GB-s'], usd: 0.1 },
  { budget: 'D1', items: ['D1 rows read', 'D1 rows written'], usd: 0.1 },
] as const

export interface BillLine {
  item: string
  quantity: number
  included: number
  usd: number
}

export interface BudgetLine {
  budget: string
  usd: number
  /** The per-1,000 budget scaled to the fleet (the same per agent). */
  budgetUsd: number
  withinBudget: boolean
}

export interface Bill {
  agents: number
  hoursPerMonth: number
  lines: BillLine[]
  budgets: BudgetLine[]
  totalUsd: number
  perAgentUsd: number
}

/** Hours in an average month (8,760 / 12). */
export const HOURS_PER_MONTH = 730

/** Fleet-wide crons (every 5 minutes and hourly): one Worker request each, whatever the fleet size. */
const CRON_INVOCATIONS_PER_MONTH = (12 + 1) * HOURS_PER_MONTH

export function projectMonthlyBill(
  agents: number,
  usage: UsagePerAgentHour,
  prices: Prices = WORKERS_PAID_PRICES,
): Bill {
  const agentHours = agents * HOURS_PER_MONTH
  const over = (quantity: number, included: number, perMillion: number) =>
    (Math.max(0, quantity - included) / 1e6) * perMillion
  const workerRequests = agentHours * usage.workerRequests + CRON_INVOCATIONS_PER_MONTH
  const cpuMs = agentHours * usage.workerCpuMs
  const doRequests =
    agentHours * (usage.doRequests + usage.webSocketMessages / prices.doWebSocketMessagesPerRequest)
  const gbSeconds = agentHours * usage.doActiveSeconds * prices.doMemoryGb
  const rowsRead = agentHours * usage.d1RowsRead
  const rowsWritten = agentHours * usage.d1RowsWritten
  const lines: BillLine[] = [
    { item: 'Workers Paid base', quantity: 1, included: 0, usd: prices.baseMonthly },
    {
      item: 'Worker requests',
      quantity: workerRequests,
      included: prices.workerRequestsIncluded,
      usd: over(workerRequests, prices.workerRequestsIncluded, prices.workerRequestsPerMillion),
    },
    {
      item: 'Worker CPU ms',
      quantity: cpuMs,
      included: prices.workerCpuMsIncluded,
      usd: over(cpuMs, prices.workerCpuMsIncluded, prices.workerCpuMsPerMillion),
    },
    {
      item: 'Durable Object requests',
      quantity: doRequests,
      included: prices.doRequestsIncluded,
      usd: over(doRequests, prices.doRequestsIncluded, prices.doRequestsPerMillion),
    },
    {
      item: 'Durable Object GB-s',
      quantity: gbSeconds,
      included: prices.doGbSecondsIncluded,
      usd: over(gbSeconds, prices.doGbSecondsIncluded, prices.doGbSecondsPerMillion),
    },
    {
      item: 'D1 rows read',
      quantity: rowsRead,
      included: prices.d1RowsReadIncluded,
      usd: over(rowsRead, prices.d1RowsReadIncluded, prices.d1RowsReadPerMillion),
    },
    {
      item: 'D1 rows written',
      quantity: rowsWritten,
      included: prices.d1RowsWrittenIncluded,
      usd: over(rowsWritten, prices.d1RowsWrittenIncluded, prices.d1RowsWrittenPerMillion),
    },
  ]
  const budgets = BUDGET_PER_1000_AGENTS.map(({ budget, items, usd }) => {
    const spent = lines
      .filter((line) => (items as readonly string[]).includes(line.item))
      .reduce((sum, line) => sum + line.usd, 0)
    const budgetUsd = (usd * agents) / 1000
    return { budget, usd: round(spent), budgetUsd: round(budgetUsd), withinBudget: spent <= budgetUsd }
  })
  const totalUsd = round(lines.reduce((sum, line) => sum + line.usd, 0))
  return {
    agents,
    hoursPerMonth: HOURS_PER_MONTH,
    lines: lines.map((line) => ({ ...line, quantity: Math.round(line.quantity), usd: round(line.usd) })),
    budgets,
    totalUsd,
    perAgentUsd: round(totalUsd / agents, 4),
  }
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}
