/**
 * Client webhooks: a notification is POSTed as JSON with `X-SpotGuard-Signature: sha256=<hex>`, the
 * HMAC-SHA256 of the exact body under the client's webhook secret, and `X-SpotGuard-Timestamp`
 * (also inside the signed body) so receivers can refuse replays.
 */
import { eq } from 'drizzle-orm'
import type { Database } from '../../db/client'
import { clients } from '../../db/schema'

export interface WebhookEvent {
  id: string
  kind: string
  severity: string
  message: string
  clientId: string
  agentId: string | null
  /** ISO-8601 UTC. */
  createdAt: string
}

/** Hex HMAC-SHA256 of `body` under `secret`. */
export async function signWebhook(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(body))
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

export type Delivery =
  | { ok: true; status: number }
  | { ok: false; reason: 'not_configured' | 'failed'; status?: number; message?: string }

/** Sends one event to the client's webhook (5 s timeout, no retry); callers run it in `waitUntil`. */
export async function deliverWebhook(
  db: Database,
  event: WebhookEvent,
  now: number,
  fetcher: typeof fetch = fetch,
): Promise<Delivery> {
  const [client] = await db
    .select({ url: clients.webhookUrl, secret: clients.webhookSecret })
    .from(clients)
    .where(eq(clients.id, event.clientId))
    .limit(1)
  if (!client?.url || !client.secret) return { ok: false, reason: 'not_configured' }
  const timestamp = String(Math.floor(now / 1000))
  const body = JSON.stringify({ ...event, timestamp })
  try {
    const res = await fetcher(client.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-SpotGuard-Timestamp': timestamp,
        'X-SpotGuard-Signature': `sha256=${await signWebhook(client.secret, body)}`,
      },
      body,
      signal: AbortSignal.timeout(5000),
    })
    return res.ok ? { ok: true, status: res.status } : { ok: false, reason: 'failed', status: res.status }
  } catch (err) {
    return { ok: false, reason: 'failed', message: (err as Error).message }
  }
}
