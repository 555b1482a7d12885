/**
 * Emergency launch without the control plane: when an interruption notice cannot reach it in time,
 * the agent picks the safest pool it knows itself (the cheapest spot price of its type in another AZ,
 * one DescribeSpotPriceHistory call) and launches a replacement there. The control plane never
 * listed this replica, so nothing about it is reported; its tags say where it came from.
 */
import { describeSpotPriceHistory } from '../ec2-api'
import type { Notice } from '../monitors/notice'
import { latestPerAz } from '../pricing'
import { fail, messageOf, type ActionContext, type ActionResult } from './context'
import { launchReplica } from './replica'

/** Prices older than this say little about today's pools. */
const PRICE_LOOKBACK_MS = 6 * 60 * 60_000

export async function launchWithoutControlPlane(
  ctx: ActionContext,
  notice: Extract<Notice, { kind: 'interruption' }>,
): Promise<ActionResult> {
  const { self, log } = ctx
  let poolId: string
  try {
    const rows = await describeSpotPriceHistory(ctx.ec2, self.instanceType, 'Linux/UNIX', ctx.clock.now() - PRICE_LOOKBACK_MS)
    const safest = latestPerAz(self.instanceType, rows)
      .filter((p) => p.az !== self.az)
      .sort((a, b) => a.price - b.price)[0]
    if (!safest) return fail('NoPool', `no spot price known for ${self.instanceType} outside ${self.az}`)
    poolId = safest.pool_id
  } catch (err) {
    return fail('NoPool', `could not read spot prices: ${messageOf(err)}`, true)
  }
  log.warn('interruption: control plane unreachable, emergency launch on our own', { pool_id: poolId, notice_id: notice.id })
  // The notice id is deterministic: a second detection of the same notice reuses the ClientToken.
  return launchReplica(ctx, { replicaId: `local-${notice.id}`, poolId, az: null, replicaType: 'emergency', unlisted: true })
}
