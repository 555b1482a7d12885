/** Scheduled maintenance events (reboot, retirement, stop) announced for the instance. */
import * as z from 'zod'
import type { Imds } from '../imds'
import { noticeId, type Notice } from './notice'

const Event = z.object({
  Code: z.string(),
  EventId: z.string().optional(),
  NotBefore: z.string().optional(),
  Description: z.string().optional(),
  State: z.string().optional(),
})

/** Active events (not completed or canceled); [] when there are none. */
export async function readScheduledEvents(imds: Imds): Promise<Notice[]> {
  const text = await imds.get('meta-data/events/maintenance/scheduled')
  if (text === null || text.trim() === '') return []
  return z
    .array(Event)
    .parse(JSON.parse(text))
    .filter((e) => e.State !== 'completed' && e.State !== 'canceled')
    .map((e) => {
      const eventId = e.EventId ?? noticeId('scheduled', { code: e.Code, notBefore: e.NotBefore })
      return {
        kind: 'scheduled' as const,
        id: noticeId('scheduled', { eventId, code: e.Code }),
        eventId,
        code: e.Code,
        notBefore: e.NotBefore ?? null,
        description: e.Description ?? '',
      }
    })
}
