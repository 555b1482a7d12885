/**
 * Usage segments as the ledger prices them: each with its agent's base type, whose on-demand price is
 * the baseline whatever type the workload runs on later (ledger/cost.ts baselineCost).
 */
import { eq, getTableColumns } from 'drizzle-orm'
import type { Database } from '../client'
import { agents, usageSegments } from '../schema'

/** `select` of segments with `baselineType`; the caller adds its `where`. */
export function selectLedgerSegments(db: Database) {
  return db
    .select({ ...getTableColumns(usageSegments), baselineType: agents.baseInstanceType })
    .from(usageSegments)
    .leftJoin(agents, eq(agents.id, usageSegments.agentId))
}
