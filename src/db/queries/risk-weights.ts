/** A client's own risk weights as stored (flows/risk-weights.ts writes them); none set: `{}`. */
import { eq } from 'drizzle-orm'
import type { Database } from '../client'
import { clientRiskWeights } from '../schema'
import { RiskWeightOverrides } from '../../engine/risk-weights'

export async function riskWeightsOf(db: Database, clientId: string): Promise<RiskWeightOverrides> {
  const [row] = await db
    .select({ weights: clientRiskWeights.weights })
    .from(clientRiskWeights)
    .where(eq(clientRiskWeights.clientId, clientId))
    .limit(1)
  // Stored only after validation; a row that no longer parses inherits everything rather than fail runs.
  const parsed = RiskWeightOverrides.safeParse(row?.weights ?? {})
  return parsed.success ? parsed.data : {}
}
