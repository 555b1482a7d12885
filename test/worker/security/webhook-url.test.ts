/** Webhook URLs aimed at the control plane's own network (SSRF): refused when set and at delivery. */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { clients } from '../../../src/db/schema'
import { checkWebhookUrl } from '../../../src/flows/webhooks/target'
import { db, seedClient, seedUser, send } from '../web/seed'

/** The quick checks: each answers 4xx and leaves the stored webhook as it was. */
const REFUSED = [
  'http://169.254.169.254/',
  'http://127.0.0.1:9/',
  'http://localhost:9/',
  'http://[::1]:9/',
  'http://10.1.2.3/',
  'http://192.168.0.1/',
  'http://0.0.0.0/',
  'https://127.0.0.1/',
  'https://[::ffff:127.0.0.1]/',
  'https://2130706433/',
]

describe('webhook URL rules', () => {
  it.each(REFUSED)('PUT /api/client/:id/webhook refuses %s with a 400 and stores nothing', async (url) => {
    const client = await seedClient()
    const owner = await seedUser(client.id, 'owner')
    const res = await send('PUT', `/api/client/${client.id}/webhook`, owner.headers, { url })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({
      code: 'BAD_REQUEST',
      error: expect.stringMatching(/webhook URL/),
    })
    const [row] = await db().select().from(clients).where(eq(clients.id, client.id))
    expect(row).toMatchObject({ webhookUrl: null, webhookSecret: null })
  })

  it('accepts a public https URL and stores it as parsed', async () => {
    const client = await seedClient()
    const owner = await seedUser(client.id, 'owner')
    const res = await send('PUT', `/api/client/${client.id}/webhook`, owner.headers, {
      url: 'https://Hooks.Example.com/spotguard',
    })
    expect(res.status).toBe(200)
    const [row] = await db().select().from(clients).where(eq(clients.id, client.id))
    expect(row?.webhookUrl).toBe('https://hooks.example.com/spotguard')
  })

  it('reads hosts as WHATWG URL parsing does before judging them', () => {
    const refused = [
      'https://0x7f.1/',
      'https://017700000001/',
      'https://127.1/',
      'https://[::]/',
      'https://[fc00::1]/',
      'https://[fd00:ec2::254]/',
      'https://[fe80::1]/',
      'https://[::ffff:a9fe:a9fe]/',
      'https://[64:ff9b::7f00:1]/',
      'https://[2002:c0a8:1::]/',
      'https://100.64.0.1/',
      'https://100.127.255.255/',
      'https://172.16.0.1/',
      'https://172.31.255.255/',
      'https://169.254.169.254/',
      'https://224.0.0.1/',
      'https://255.255.255.255/',
      'https://foo.localhost/',
      'https://LOCALHOST./',
      'https://user:pass@hooks.example.com/',
      'ftp://hooks.example.com/',
      'not a url',
    ]
    for (const url of refused)
      expect(checkWebhookUrl(url, true), url).toMatchObject({ ok: false, code: 'BAD_REQUEST' })
    const accepted = [
      'https://hooks.example.com/x',
      'https://8.8.8.8/',
      'https://100.128.0.1/',
      'https://172.32.0.1/',
      'https://[2606:4700::1111]/',
    ]
    for (const url of accepted) expect(checkWebhookUrl(url, false), url).toMatchObject({ ok: true })
  })

  it('accepts http only under WEBHOOK_ALLOW_HTTP, and never for a private address', () => {
    expect(checkWebhookUrl('http://hooks.example.com/', false)).toMatchObject({ ok: false })
    expect(checkWebhookUrl('http://hooks.example.com/', true)).toMatchObject({ ok: true })
    expect(checkWebhookUrl('http://127.0.0.1:9/', true)).toMatchObject({ ok: false })
  })
})
