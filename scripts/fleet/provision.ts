/**
 * The first admin and the demo client of a local run, created through the admin API with ADMIN_TOKEN
 * and remembered in <state dir>/demo.json (mode 600: it holds the client token and the password), so a
 * second start finds them instead of creating more. A demo client whose token was lost gets a new one.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import * as z from 'zod'

const DemoFile = z.object({
  adminEmail: z.string(),
  adminPassword: z.string(),
  clientId: z.string(),
  clientToken: z.string(),
})
export type Demo = z.infer<typeof DemoFile>

export const DEMO_ADMIN_EMAIL = 'admin@spotguard.local'
const DEMO_CLIENT = { name: 'Demo client', email: 'demo@spotguard.local' }

/** Makes sure the admin account and the demo client exist; returns their credentials. */
export async function provisionDemo(url: string, adminToken: string, stateDir: string): Promise<Demo> {
  const file = join(stateDir, 'demo.json')
  const saved = existsSync(file) ? DemoFile.safeParse(JSON.parse(readFileSync(file, 'utf8'))) : null
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> | null }
  }

  const adminPassword = saved?.success ? saved.data.adminPassword : randomBytes(12).toString('base64url')
  const admins = await call('GET', '/api/admin/users')
  const list = Array.isArray(admins.body) ? (admins.body as { email?: string }[]) : []
  if (!list.some((u) => u.email === DEMO_ADMIN_EMAIL)) {
    const created = await call('POST', '/api/admin/users', { email: DEMO_ADMIN_EMAIL, password: adminPassword })
    if (created.status !== 201) throw new Error(`creating the admin account: HTTP ${created.status} ${JSON.stringify(created.body)}`)
  }

  let clientId = saved?.success ? saved.data.clientId : null
  let clientToken = saved?.success ? saved.data.clientToken : null
  const existing = clientId ? await call('GET', `/api/admin/clients/${clientId}`) : null
  if (!clientId || existing?.status !== 200) {
    const created = await call('POST', '/api/admin/clients/create', DEMO_CLIENT)
    const client = created.body?.client as { id?: string; token?: string } | undefined
    if (created.status !== 201 || !client?.id || !client.token) throw new Error(`creating the demo client: HTTP ${created.status} ${JSON.stringify(created.body)}`)
    clientId = client.id
    clientToken = client.token
  } else if (!clientToken) {
    const rotated = await call('POST', `/api/admin/clients/${clientId}/regenerate-token`)
    clientToken = (rotated.body?.token ?? (rotated.body?.client as { token?: string } | undefined)?.token ?? null) as string | null
    if (!clientToken) throw new Error(`rotating the demo client's token: HTTP ${rotated.status}`)
  }
  const demo: Demo = { adminEmail: DEMO_ADMIN_EMAIL, adminPassword, clientId, clientToken: clientToken! }
  writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 })
  return demo
}
