import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { clients, webhookCursors } from '../../../src/db/schema'
import { notifyClientOnce } from '../../../src/flows/notifications'
import { newId } from '../../../src/ids'
import { signWebhook } from '../../../src/flows/webhooks/deliver'
import {
  dispatchWebhooks,
  MAX_AGE_MS,
  MAX_PER_CLIENT,
  resetWebhookCursor,
} from '../../../src/flows/webhooks/dispatch'
import { db, seedClient, seedUser, send } from './seed'

interface Sent {
  url: string
  body: string
  signature: string | null
  timestamp: string | null
}

/** Records every request; answers with `status(url)` (200 unless told), or throws when it returns 0. */
function fakeFetcher(status: (url: string) => number = () => 200) {
  const sent: Sent[] = []
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input)
    const headers = new Headers(init?.headers)
    sent.push({
      url,
      body: String(init?.body),
      signature: headers.get('X-SpotGuard-Signature'),
      timestamp: headers.get('X-SpotGuard-Timestamp'),
    })
    const code = status(url)
    if (code === 0) throw new Error('connection refused')
    return new Response(null, { status: code })
  }) as typeof fetch
  return { sent, fetcher }
}

/** A client whose webhook was configured at `at` (cursor initialized as the settings route does). */
async function hookedClient(at: number) {
  const client = await seedClient()
  const url = `https://hooks.example.com/${client.id}`
  const secret = `whsec_${crypto.randomUUID()}`
  await db().batch([
    db().update(clients).set({ webhookUrl: url, webhookSecret: secret }).where(eq(clients.id, client.id)),
    resetWebhookCursor(db(), client.id, at),
  ])
  return { ...client, url, secret }
}

async function notify(clientId: string, createdAt: number, message = `m ${createdAt}`) {
  const id = newId('ntf')
  await notifyClientOnce(db(), id, {
    clientId,
    agentId: null,
    kind: 'switch',
    severity: 'info',
    message,
    createdAt,
  })
  return id
}

const ids = (sent: Sent[], url: string) =>
  sent.filter((s) => s.url === url).map((s) => (JSON.parse(s.body) as { id: string }).id)

describe('webhook dispatch', () => {
  it('delivers new notifications oldest first with a valid signature, and never re-sends', async () => {
    const t0 = Date.now()
    const client = await hookedClient(t0)
    const first = await notify(client.id, t0 + 1000)
    const second = await notify(client.id, t0 + 2000)
    const { sent, fetcher } = fakeFetcher()

    const run = await dispatchWebhooks(db(), t0 + 3000, { fetcher, allowHttp: false })
    expect(ids(sent, client.url)).toEqual([first, second])
    expect(run.delivered).toBeGreaterThanOrEqual(2)
    for (const s of sent.filter((x) => x.url === client.url)) {
      expect(s.signature).toBe(`sha256=${await signWebhook(client.secret, s.body)}`)
      const body = JSON.parse(s.body) as Record<string, unknown>
      expect(body).toMatchObject({ clientId: client.id, kind: 'switch', timestamp: s.timestamp })
    }
    expect(JSON.parse(sent.find((s) => s.url === client.url)!.body)).toMatchObject({
      createdAt: new Date(t0 + 1000).toISOString(),
    })

    const again = fakeFetcher()
    await dispatchWebhooks(db(), t0 + 4000, { fetcher: again.fetcher, allowHttp: false })
    expect(ids(again.sent, client.url)).toEqual([])

    const third = await notify(client.id, t0 + 5000)
    const later = fakeFetcher()
    await dispatchWebhooks(db(), t0 + 6000, { fetcher: later.fetcher, allowHttp: false })
    expect(ids(later.sent, client.url)).toEqual([third])
  })

  it('keeps notifications of the same millisecond apart, in the order they were written', async () => {
    const t0 = Date.now()
    const client = await hookedClient(t0)
    const a = await notify(client.id, t0 + 1)
    const b = await notify(client.id, t0 + 1)
    // The second request to this client's URL fails (the fake records before answering).
    const { sent, fetcher } = fakeFetcher((url) =>
      url === client.url && ids(sent, client.url).length > 1 ? 500 : 200,
    )
    await dispatchWebhooks(db(), t0 + 10, { fetcher, allowHttp: false })
    const next = fakeFetcher()
    await dispatchWebhooks(db(), t0 + 20, { fetcher: next.fetcher, allowHttp: false })
    expect(ids(sent, client.url)).toEqual([a, b])
    expect(ids(next.sent, client.url)).toEqual([b])
  })

  it('stops at a failure, records it, and retries the same notification next run', async () => {
    const t0 = Date.now()
    const client = await hookedClient(t0)
    const first = await notify(client.id, t0 + 1)
    const second = await notify(client.id, t0 + 2)
    const down = fakeFetcher((url) => (url === client.url ? 503 : 200))
    const run = await dispatchWebhooks(db(), t0 + 10, { fetcher: down.fetcher, allowHttp: false })
    expect(ids(down.sent, client.url)).toEqual([first])
    expect(run.failedClients).toBeGreaterThanOrEqual(1)
    const [cursor] = await db().select().from(webhookCursors).where(eq(webhookCursors.clientId, client.id))
    expect(cursor).toMatchObject({ deliveredUntil: t0, lastError: 'HTTP 503' })

    const refused = fakeFetcher((url) => (url === client.url ? 0 : 200))
    await dispatchWebhooks(db(), t0 + 20, { fetcher: refused.fetcher, allowHttp: false })
    expect(ids(refused.sent, client.url)).toEqual([first])

    const up = fakeFetcher()
    await dispatchWebhooks(db(), t0 + 30, { fetcher: up.fetcher, allowHttp: false })
    expect(ids(up.sent, client.url)).toEqual([first, second])
    const [after] = await db().select().from(webhookCursors).where(eq(webhookCursors.clientId, client.id))
    expect(after).toMatchObject({ deliveredUntil: t0 + 2, deliveredId: second, lastError: null })
  })

  it('skips notifications older than 24 h so a dead endpoint cannot block forever', async () => {
    const t0 = Date.now()
    const client = await hookedClient(t0)
    await notify(client.id, t0 + 1)
    const fresh = await notify(client.id, t0 + MAX_AGE_MS + 5)
    const { sent, fetcher } = fakeFetcher()
    await dispatchWebhooks(db(), t0 + MAX_AGE_MS + 10, { fetcher, allowHttp: false })
    expect(ids(sent, client.url)).toEqual([fresh])
  })

  it(`sends at most ${MAX_PER_CLIENT} per client per run`, async () => {
    const t0 = Date.now()
    const client = await hookedClient(t0)
    for (let i = 1; i <= MAX_PER_CLIENT + 3; i++) await notify(client.id, t0 + i)
    const { sent, fetcher } = fakeFetcher()
    await dispatchWebhooks(db(), t0 + 1000, { fetcher, allowHttp: false })
    expect(ids(sent, client.url)).toHaveLength(MAX_PER_CLIENT)
    const next = fakeFetcher()
    await dispatchWebhooks(db(), t0 + 2000, { fetcher: next.fetcher, allowHttp: false })
    expect(ids(next.sent, client.url)).toHaveLength(3)
  })

  it("never sends a client's notifications to another client's URL, nor anything without a webhook", async () => {
    const t0 = Date.now()
    const a = await hookedClient(t0)
    const b = await hookedClient(t0)
    const bare = await seedClient()
    const forA = await notify(a.id, t0 + 1)
    const forB = await notify(b.id, t0 + 2)
    const forBare = await notify(bare.id, t0 + 3)
    const { sent, fetcher } = fakeFetcher()
    await dispatchWebhooks(db(), t0 + 10, { fetcher, allowHttp: false })
    expect(ids(sent, a.url)).toEqual([forA])
    expect(ids(sent, b.url)).toEqual([forB])
    expect(sent.map((s) => s.body).join()).not.toContain(forBare)
    expect(sent.every((s) => s.url.startsWith('https://hooks.example.com/'))).toBe(true)
  })

  it('starts a webhook set through the settings route at that moment, and a removed one stops', async () => {
    const client = await seedClient()
    const owner = await seedUser(client.id, 'owner')
    await notify(client.id, Date.now() - 60_000, 'old history')
    const res = await send('PUT', `/api/client/${client.id}/webhook`, owner.headers, {
      url: 'https://hooks.example.com/settings',
    })
    const { secret } = (await res.json()) as { secret: string }
    const [cursor] = await db().select().from(webhookCursors).where(eq(webhookCursors.clientId, client.id))
    expect(cursor?.deliveredUntil).toBeGreaterThan(Date.now() - 60_000)
    const fresh = await notify(client.id, Date.now() + 1)
    const { sent, fetcher } = fakeFetcher()
    await dispatchWebhooks(db(), Date.now() + 10, { fetcher, allowHttp: false })
    const mine = sent.filter((s) => s.url === 'https://hooks.example.com/settings')
    expect(mine.map((s) => (JSON.parse(s.body) as { id: string }).id)).toEqual([fresh])
    expect(mine[0]!.signature).toBe(`sha256=${await signWebhook(secret, mine[0]!.body)}`)

    await send('PUT', `/api/client/${client.id}/webhook`, owner.headers, { url: null })
    expect(await db().select().from(webhookCursors).where(eq(webhookCursors.clientId, client.id))).toEqual([])
    await notify(client.id, Date.now() + 20)
    const after = fakeFetcher()
    await dispatchWebhooks(db(), Date.now() + 30, { fetcher: after.fetcher, allowHttp: false })
    expect(after.sent.filter((s) => s.url === 'https://hooks.example.com/settings')).toEqual([])
  })

  it('treats a webhook without a cursor as starting now', async () => {
    const t0 = Date.now()
    const client = await seedClient()
    const url = `https://hooks.example.com/${client.id}`
    await db()
      .update(clients)
      .set({ webhookUrl: url, webhookSecret: 'whsec_legacy' })
      .where(eq(clients.id, client.id))
    await notify(client.id, t0 - 1000)
    const { sent, fetcher } = fakeFetcher()
    await dispatchWebhooks(db(), t0, { fetcher, allowHttp: false })
    expect(ids(sent, url)).toEqual([])
    const fresh = await notify(client.id, t0 + 1)
    const next = fakeFetcher()
    await dispatchWebhooks(db(), t0 + 10, { fetcher: next.fetcher, allowHttp: false })
    expect(ids(next.sent, url)).toEqual([fresh])
  })
})
