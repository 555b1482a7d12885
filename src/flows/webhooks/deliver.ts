/**
 * Client webhooks: a notification is POSTed as JSON with `X-SpotGuard-Signature: sha256=<hex>`, the
 * HMAC-SHA256 of the exact body under the client's webhook secret, and `X-SpotGuard-Timestamp`
 * (also inside the signed body) so receivers can refuse replays. Redirects are not followed (a
 * public URL answering 3xx must not lead the request to a private one).
 */
import { checkWebhookUrl } from './target'

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

/** Where a client's webhook goes (its stored URL and secret). */
export interface WebhookEndpoint {
  url: string
  secret: string
}

/** What a delivery did; `detail` is for the client's own cursor, never echoed by the test route. */
export type Delivery = { ok: true } | { ok: false; reason: 'refused' | 'failed'; detail: string }

export interface DeliveryOptions {
  /** `WEBHOOK_ALLOW_HTTP` (env.ts settingsOf). */
  allowHttp: boolean
  fetcher?: typeof fetch
}

/** One request's time limit (ms). */
export const REQUEST_TIMEOUT_MS = 5000

/**
 * Sends one event (5 s timeout, no retry). The URL is checked again here: one stored before the rules
 * of target.ts, or under a laxer setting, is refused without a request.
 */
export async function deliverWebhook(
  endpoint: WebhookEndpoint,
  event: WebhookEvent,
  now: number,
  options: DeliveryOptions,
): Promise<Delivery> {
  const target = checkWebhookUrl(endpoint.url, options.allowHttp)
  if (!target.ok) return { ok: false, reason: 'refused', detail: target.message }
  const timestamp = String(Math.floor(now / 1000))
  const body = JSON.stringify({ ...event, timestamp })
  try {
    const res = await (options.fetcher ?? fetch)(target.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-SpotGuard-Timestamp': timestamp,
        'X-SpotGuard-Signature': `sha256=${await signWebhook(endpoint.secret, body)}`,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
    // The body is never read: nothing of the target's answer but its status reaches anyone.
    await res.body?.cancel()
    return res.ok ? { ok: true } : { ok: false, reason: 'failed', detail: `HTTP ${res.status}` }
  } catch (err) {
    return { ok: false, reason: 'failed', detail: (err as Error).message }
  }
}
