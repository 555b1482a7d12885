/**
 * Structured logs: one JSON object per line, so `wrangler tail` and Workers Logs can filter by field
 * (job, agent_id, request_id). Imports nothing of ours: every layer may log.
 */
export type LogFields = { message: string } & Record<string, unknown>

export const log = {
  error(fields: LogFields): void {
    console.error(JSON.stringify({ level: 'error', ...fields }))
  },
}
