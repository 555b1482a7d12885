/** The rebalance recommendation: the instance's pool is at elevated risk of interruption. */
import * as z from 'zod'
import type { Imds } from '../imds'
import { noticeId, type Notice } from './notice'

const Recommendation = z.object({ noticeTime: z.string() })

/** The recommendation, or null when there is none (IMDS 404). */
export async function readRebalance(imds: Imds): Promise<Notice | null> {
  const text = await imds.get('meta-data/events/recommendations/rebalance')
  if (text === null) return null
  const { noticeTime } = Recommendation.parse(JSON.parse(text))
  return { kind: 'rebalance', id: noticeId('rebalance', { noticeTime }), noticeTime }
}
