/** The webhook test route as a port scanner: it answers only delivered/failed, and a few times per client. */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { eq } from 'drizzle-orm'
import { clients } from '../../../src/db/schema'
import { WEBHOOK_TEST_MAX } from '../../../src/auth/rate-limit'
import { db, seedClient, seedUser, send } from '../web/seed'

async function hooked() {
  const client = await seedClient()
  const owner = await seedUser(client.id, 'owner')
  await db()
    .update(clients)
    .set({ webhookUrl: 'https://hooks.example.com/t', webhookSecret: 'whsec_t' })
    .where(eq(clients.id, client.id))
  return { client, owner }
}

afterEach(() => vi.unstubAllGlobals())

describe('webhook test endpoint', () => {
  it("answers only delivered or failed, never the target's status or body", async () => {
    const { client, owner } = await hooked()
    // Built inside the request that reads them (workerd ties a body to its request).
    const answers = [
      () => new Response('SSH-2.0-OpenSSH_9.6 banner of the target', { status: 418, statusText: 'Banner' }),
      () => new Response('ok', { status: 200 }),
    ]
    const fetcher = vi.fn(async () => answers.shift()!())
    vi.stubGlobal('fetch', fetcher)
    const failed = await send('POST', `/api/client/${client.id}/webhook/test`, owner.headers)
    const failedText = await failed.text()
    expect(JSON.parse(failedText)).toEqual({ success: true, result: 'failed' })
    expect(failedText).not.toMatch(/418|SSH|Banner/)
    const delivered = await send('POST', `/api/client/${client.id}/webhook/test`, owner.headers)
    expect(await delivered.json()).toEqual({ success: true, result: 'delivered' })
    expect(fetcher).toHaveBeenCalledTimes(2)
  })

  it(`sends at most ${WEBHOOK_TEST_MAX} tests per client in the window, then answers 429 without a request`, async () => {
    const { client, owner } = await hooked()
    const other = await hooked()
    const fetcher = vi.fn(async () => new Response(null, { status: 204 }))
    vi.stubGlobal('fetch', fetcher)
    const statuses = await Promise.all(
      Array.from({ length: WEBHOOK_TEST_MAX + 3 }, () =>
        send('POST', `/api/client/${client.id}/webhook/test`, owner.headers).then((r) => r.status),
      ),
    )
    expect(statuses.filter((s) => s === 200)).toHaveLength(WEBHOOK_TEST_MAX)
    expect(statuses.filter((s) => s === 429)).toHaveLength(3)
    expect(fetcher).toHaveBeenCalledTimes(WEBHOOK_TEST_MAX)
    // Another client's limit is its own.
    expect(
      (await send('POST', `/api/client/${other.client.id}/webhook/test`, other.owner.headers)).status,
    ).toBe(200)
  })
})
