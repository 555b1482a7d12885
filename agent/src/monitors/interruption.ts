/** The spot interruption notice (`spot/instance-action`): a 2-minute warning before reclaim. */
import * as z from 'zod'
import type { Imds } from '../imds'
import { noticeId, type Notice } from './notice'

const InstanceAction = z.object({ action: z.string(), time: z.string() })

/** The notice, or null when there is none (IMDS 404). */
export async function readInterruption(imds: Imds): Promise<Notice | null> {
  const text = await imds.get('meta-data/spot/instance-action')
  if (text === null) return null
  const { action, time } = InstanceAction.parse(JSON.parse(text))
  return { kind: 'interruption', id: noticeId('interruption', { action, time }), action, time }
}
