/**
 * A client's own risk weights (engine/risk-weights.ts), set by its owner or an admin: what is stored,
 * and what the client's engine runs decide with.
 * Writes: `client_risk_weights`.
 */
import { eq } from 'drizzle-orm'
import type { Database } from '../db/client'
import { clientRiskWeights } from '../db/schema'
import { riskWeightsOf } from '../db/queries/risk-weights'
import { activeParams } from '../db/queries/engine-params'
import type { EngineParams } from '../engine/params'
import { withRiskWeights, type RiskWeightOverrides } from '../engine/risk-weights'

/** Stores the client's weights (validated); none set deletes the row: everything inherits again. */
export function setRiskWeights(db: Database, clientId: string, weights: RiskWeightOverrides, now: number) {
  if (Object.keys(weights).length === 0)
    return db.delete(clientRiskWeights).where(eq(clientRiskWeights.clientId, clientId))
  return db
    .insert(clientRiskWeights)
    .values({ clientId, weights, updatedAt: now })
    .onConflictDoUpdate({ target: clientRiskWeights.clientId, set: { weights, updatedAt: now } })
}

/** The active parameters as the client's engine uses them: its own risk weights in. */
export async function clientParams(db: Database, clientId: string): Promise<EngineParams> {
  const [{ params }, weights] = await Promise.all([activeParams(db), riskWeightsOf(db, clientId)])
  return withRiskWeights(params, weights)
}
