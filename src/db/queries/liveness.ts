/**
 * Live status and last seen for the agents a page or API shows. D1 hears of an agent's status when it
 * changes and of its heartbeats only every 5 minutes; its Durable Object knows each one. The lists lay
 * the object's view over the rows they read (one RPC per agent shown, in parallel), with no D1 write.
 */
import type { Env } from '../../env'
import { log } from '../../log'
import { sessionOf } from '../../session/stub'
import type { AgentLiveness, AgentRef } from '../../session/types'

/** Each agent's live view by agent id; an agent whose object knows nothing (or fails) is absent. */
export type LivenessSource = (refs: readonly AgentRef[]) => Promise<Map<string, AgentLiveness>>

/** Reads the agents' Durable Objects. */
export function livenessFrom(env: Env): LivenessSource {
  return async (refs) => {
    const unique = [...new Map(refs.map((r) => [r.agentId, r])).values()]
    const views = await Promise.all(
      unique.map(async (ref) => [ref.agentId, await readOne(env, ref)] as const),
    )
    return new Map(views.filter((v): v is [string, AgentLiveness] => v[1] !== null))
  }
}

/** D1's status and last heartbeat with the object's view laid over. */
export function overlayLiveness<T extends { status: string; lastHeartbeatAt: number | null }>(
  row: T,
  live: AgentLiveness | undefined,
): T {
  if (!live || row.status === 'deleted') return row
  return {
    ...row,
    status: liveStatus(row.status, live),
    lastHeartbeatAt: Math.max(live.lastSeenAt, row.lastHeartbeatAt ?? 0),
  }
}

/** An agent's status as shown: the object's, except that a deleted agent stays deleted. */
export function liveStatus(stored: string, live: AgentLiveness | undefined): string {
  return !live || stored === 'deleted' ? stored : live.status
}

async function readOne(env: Env, ref: AgentRef): Promise<AgentLiveness | null> {
  try {
    return await sessionOf(env, ref.agentId).liveness(ref)
  } catch (error) {
    // The row keeps D1's copy, at most 5 minutes old.
    log.error({ message: 'liveness read failed', agent_id: ref.agentId, error: String(error) })
    return null
  }
}
