/**
 * Telling agents' objects that what their tokens proved changed, so that each forgets the tokens it
 * trusts on HTTP heartbeats at once (session/credentials.ts) and proves the next one in D1 again; when
 * a token may no longer be good, each also closes its push sockets, which proved their token only at
 * connect (the agent reconnects, proven in D1). The callers write D1 first and tell after: a proof
 * read before the write is refused by the object's new epoch. A tell that fails is logged; the
 * object's TRUST_MS is the backstop. Writes nothing.
 */
import { eq } from 'drizzle-orm'
import type { Database } from '../db/client'
import { agents } from '../db/schema'
import { log } from '../log'
import { sessionOf, type AgentSessionNamespace } from '../session/stub'

/** Objects told at a time (each tell is one Durable Object request). */
const TELL_AT_ONCE = 50

type Sessions = { AGENT_SESSION: AgentSessionNamespace }

/** The operator reset the agent's tokens: its object forgets them and closes its sockets. */
export async function forgetAgentTokens(env: Sessions, agentId: string): Promise<void> {
  await tellForget(env, [agentId], { endSockets: true })
}

/**
 * The client's tokens were rotated or revoked, or the client suspended or deleted: every one of its
 * agents' objects (deleted agents' too: one may be re-enabled) forgets its tokens; `endSockets` unless
 * every token stays good (a rotation's grace period).
 */
export async function forgetClientTokens(
  env: Sessions,
  db: Database,
  clientId: string,
  options: { endSockets: boolean },
): Promise<void> {
  const rows = await db.select({ id: agents.id }).from(agents).where(eq(agents.clientId, clientId))
  await tellForget(
    env,
    rows.map((r) => r.id),
    options,
  )
}

async function tellForget(env: Sessions, agentIds: readonly string[], options: { endSockets: boolean }) {
  let failed = 0
  for (let start = 0; start < agentIds.length; start += TELL_AT_ONCE) {
    const told = await Promise.allSettled(
      agentIds.slice(start, start + TELL_AT_ONCE).map((id) => sessionOf(env, id).forgetTokens(options)),
    )
    failed += told.filter((t) => t.status === 'rejected').length
  }
  if (failed > 0) log.error({ message: 'forget tokens not delivered', failed, agents: agentIds.length })
}
