/** Webhook delivery attacks: a late write skipped, one slow endpoint delaying every tenant, a stored private URL. */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { clients, webhookCursors } from '../../../src/db/schema'
import { newId } from '../../../src/ids'
import { dispatchWebhooks, resetWebhookCursor } from '../../../src/flows/webhooks/dispatch'
import { notifyClientOnce } from '../../../src/flows/notifications'
import { eventually } from '../../support/eventually'
import { db, seedClient } from '../web/seed'

async function hookedClient(at: number, url?: string) {
  const client = await seedClient()
  const hook = url ?? `https://hooks.example.com/${client.id}`
  await db().batch([
    db().update(clients).set({ webhookUrl: hook, webhookSecret: 'whsec_x' }).where(eq(clients.id, client.id)),
    resetWebhookCursor(db(), client.id, at),
  ])
  return { ...client, url: hook }
}

async function notify(clientId: string, createdAt: number) {
  const id = newId('ntf')
  await notifyClientOnce(db(), id, {
    clientId,
    agentId: null,
    kind: 'switch',
    severity: 'info',
    message: `m ${createdAt}`,
    createdAt,
  })
  return id
}

/** Records the event id of every request per URL; requests to `hang` never answer. */
function recorder(hang?: string) {
  const sent = new Map<string, string[]>()
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input)
    sent.set(url, [...(sent.get(url) ?? []), (JSON.parse(String(init?.body)) as { id: string }).id])
    if (url === hang) return new Promise<Response>(() => {})
    return new Response(null, { status: 204 })
  }) as typeof fetch
  return { sent, fetcher }
}

describe('webhook delivery', () => {
  it('still delivers a notification written late with a createdAt older than what was sent', async () => {
    const t0 = Date.now()
    const client = await hookedClient(t0)
    const first = await notify(client.id, t0 + 2000)
    const one = recorder()
    await dispatchWebhooks(db(), t0 + 3000, { fetcher: one.fetcher, allowHttp: false })
    expect(one.sent.get(client.url)).toEqual([first])
    // Written after that run, stamped with a time before the notification already delivered.
    const late = await notify(client.id, t0 + 1000)
    const two = recorder()
    await dispatchWebhooks(db(), t0 + 4000, { fetcher: two.fetcher, allowHttp: false })
    expect(two.sent.get(client.url)).toEqual([late])
  })

  it("keeps one tenant's hanging endpoint from delaying another tenant's deliveries", async () => {
    const t0 = Date.now()
    const slow = await hookedClient(t0)
    const fast = await hookedClient(t0)
    await notify(slow.id, t0 + 1)
    const forFast = [await notify(fast.id, t0 + 2), await notify(fast.id, t0 + 3)]
    const { sent, fetcher } = recorder(slow.url)
    let endBudget = () => {}
    const budget = new Promise<void>((resolve) => (endBudget = resolve))
    const run = dispatchWebhooks(db(), t0 + 10, { fetcher, allowHttp: false, wait: () => budget })
    // The fast tenant is served while the slow one's request still hangs and its budget runs.
    await eventually(
      async () => {
        const [cursor] = await db().select().from(webhookCursors).where(eq(webhookCursors.clientId, fast.id))
        return cursor?.deliveredId === forFast[1]
      },
      { what: "the fast tenant's cursor past both notifications", timeoutMs: 10_000 },
    )
    expect(sent.get(fast.url)).toEqual(forFast)
    expect(sent.get(slow.url)).toHaveLength(1)
    endBudget()
    const result = await run
    expect(result.failedClients).toBeGreaterThanOrEqual(1)
    const [slowCursor] = await db().select().from(webhookCursors).where(eq(webhookCursors.clientId, slow.id))
    expect(slowCursor).toMatchObject({ deliveredId: '', lastError: 'time budget of this run spent' })
  })

  it('refuses at delivery time a private URL stored before the URL rules, sending nothing', async () => {
    const t0 = Date.now()
    const client = await hookedClient(t0, 'http://169.254.169.254/latest/meta-data/')
    await notify(client.id, t0 + 1)
    for (const allowHttp of [false, true]) {
      const { sent, fetcher } = recorder()
      await dispatchWebhooks(db(), t0 + 10, { fetcher, allowHttp })
      expect(sent.size === 0 || !sent.has(client.url)).toBe(true)
    }
    const [cursor] = await db().select().from(webhookCursors).where(eq(webhookCursors.clientId, client.id))
    expect(cursor?.lastError).toContain('169.254.169.254')
    expect(cursor?.deliveredId).toBe('')
  })
})
