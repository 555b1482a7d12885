/**
 * A switch report's prices, completed from the control plane's own price history where the agent sent
 * none (the 5.x agent's switches, installed agents' sparse bodies): the old pool's and the new pool's
 * spot prices and the on-demand price of the workload's base type (agents.base_instance_type) in the
 * region, at the time the switch is recorded.
 * The old side's unknown facts (mode, pool) come from the instance row the control plane holds.
 */
import type { Database } from '../../db/client'
import type { Agent } from '../../db/schema'
import { switchMarketAt } from '../../db/queries/prices-at'
import { spotPoolOf } from '../../prices/pool-id'
import { findInstanceOfAgent } from '../../db/queries/instances'
import type { SwitchReport, SwitchSide } from './report'

/** The report with every price it lacks (null or not positive) taken from history at `at` (epoch ms). */
export async function withHistoryPrices(
  db: Database,
  agent: Agent,
  report: SwitchReport,
  at: number,
): Promise<SwitchReport> {
  const old = report.old ? await withKnownFacts(db, agent, report.old) : null
  const reported = report.prices
  const lacks = (price: number | null) => !isPrice(price)
  const market = await switchMarketAt(
    db,
    {
      clientId: agent.clientId,
      // The baseline is the workload's base type's on-demand price, whatever type it moves to.
      instanceType: lacks(reported.onDemand)
        ? (agent.baseInstanceType ?? report.new.instanceType ?? old?.instanceType ?? null)
        : null,
      region: report.new.region ?? old?.region ?? null,
      oldPoolId: lacks(reported.oldSpot) && old ? spotPoolOf(old) : null,
      newPoolId: lacks(reported.newSpot) ? spotPoolOf(report.new) : null,
    },
    at,
  )
  const pick = (price: number | null, fromHistory: number | null) => (isPrice(price) ? price : fromHistory)
  return {
    ...report,
    old,
    prices: {
      onDemand: pick(reported.onDemand, market.onDemand),
      oldSpot: pick(reported.oldSpot, market.oldSpot),
      newSpot: pick(reported.newSpot, market.newSpot),
    },
  }
}

/** A reported price is one when it is a positive number (installed agents send 0.0 for "none"). */
function isPrice(value: number | null): value is number {
  return value !== null && value > 0
}

/** The old side with what the report left unknown filled in from the instance row, when there is one. */
async function withKnownFacts(db: Database, agent: Agent, side: SwitchSide): Promise<SwitchSide> {
  const isComplete =
    side.mode !== 'unknown' &&
    side.instanceType !== null &&
    side.region !== null &&
    (side.mode !== 'spot' || spotPoolOf(side) !== null)
  if (isComplete || !side.instanceId) return side
  const row = await findInstanceOfAgent(db, agent, side.instanceId)
  if (!row) return side
  return {
    ...side,
    mode: side.mode === 'unknown' ? row.mode : side.mode,
    instanceType: side.instanceType ?? row.instanceType,
    region: side.region ?? row.region,
    az: side.az ?? row.az,
    poolId: side.poolId ?? (side.mode === 'unknown' || side.mode === row.mode ? row.poolId : null),
  }
}
