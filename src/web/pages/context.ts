/** Page middleware: who is viewing (redirect to /login when nobody), and which client's portal is open. */
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { requirePerson, resolvePerson, scopeClient } from '../../auth/middleware'
import type { AppEnv } from '../../env'
import { ApiError } from '../../errors'
import { database } from '../../db/client'
import { and, eq, ne } from 'drizzle-orm'
import { clients } from '../../db/schema'
import type { Viewer } from '../ui/layout'

/** Requires a signed-in person; an unauthenticated page gets a redirect to /login (never a 401 page). */
export const pageAuth = createMiddleware<AppEnv>(async (c, next) => {
  let person = null
  try {
    person = await resolvePerson(c)
  } catch {
    person = null
  }
  if (!person) {
    const url = new URL(c.req.url)
    return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`)
  }
  await next()
})

export function viewerOf(c: Context<AppEnv>): Viewer {
  const person = requirePerson(c)
  const session = c.get('session')
  return {
    email: session?.email ?? 'operator',
    isAdmin: person.kind === 'admin',
    clientId: person.kind === 'user' ? person.clientId : null,
    role: person.kind === 'user' ? person.role : 'admin',
    csrfToken: session?.csrfToken ?? '',
  }
}

/** The portal's client from the URL, checked against the viewer (another client's id is a 404). */
export async function portalClient(
  c: Context<AppEnv>,
): Promise<{ id: string; name: string; status: string }> {
  const clientId = c.req.param('clientId') ?? ''
  scopeClient(c, clientId)
  const [row] = await database(c.env.DB)
    .select({ id: clients.id, name: clients.name, status: clients.status })
    .from(clients)
    .where(and(eq(clients.id, clientId), ne(clients.status, 'deleted')))
    .limit(1)
  if (!row) throw new ApiError('NOT_FOUND', 'client not found')
  return row
}

/** True when the viewer may change this client's things (admin or owner). */
export function canWrite(viewer: Viewer): boolean {
  return viewer.role !== 'viewer'
}
