/**
 * D1 rows written per agent-hour by the agent API at the installed agents' cadence (heartbeat 30 s,
 * pending-commands 15 s, config 60 s, pricing 300 s with the pools of pricing-report-v4.json):
 * 4.0.0 agents started at random moments of the first minute, then D1's `meta.rows_written` summed
 * over a window of `windowSeconds` (300 by default: one period of every loop and of the object's
 * D1 refresh, so each agent's periodic writes fall in it exactly once whatever its phase).
 */
import { LegacyAgent } from '../../test/emulators/legacy-agent'
import { identityOf, PRICES } from './agents'
import type { BenchServer } from './server'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface RowsMeasurement {
  agents: number
  windowSeconds: number
  rowsWritten: number
  rowsPerAgentHour: number
  /** Per agent-hour, by statement kind and table (`update agents`, ...). */
  byStatementPerAgentHour: Record<string, number>
}

export async function measureRowsWritten(
  server: BenchServer,
  token: string,
  count: number,
  windowSeconds: number,
  spreadSeconds = 60,
): Promise<RowsMeasurement> {
  const agents = Array.from(
    { length: count },
    () =>
      new LegacyAgent({
        serverUrl: server.url,
        identity: identityOf(token, '4.0.0'),
        // Replica polls are not part of the cadence measured here.
        cadence: { replicaPoll: 1e6 },
        prices: () => PRICES,
        startDelayMs: Math.random() * spreadSeconds * 1000,
      }),
  )
  agents.forEach((a) => a.start())
  await sleep(spreadSeconds * 1000 + 5_000)
  await server.resetRowsWritten()
  await sleep(windowSeconds * 1000)
  const { total, byStatement } = await server.rowsWritten()
  await Promise.all(agents.map((a) => a.stop(true)))
  const perAgentHour = (rows: number) => Math.round((rows / count) * (3600 / windowSeconds) * 10) / 10
  return {
    agents: count,
    windowSeconds,
    rowsWritten: total,
    rowsPerAgentHour: perAgentHour(total),
    byStatementPerAgentHour: Object.fromEntries(
      Object.entries(byStatement).map(([kind, rows]) => [kind, perAgentHour(rows)]),
    ),
  }
}
