/** Who an agent's object belongs to: learnt from the first call (routes check the tenant before calling). */

export interface Owner {
  clientId: string
  agentId: string
  agentVersion: string | null
  /** The instance the agent registered from last. */
  instanceId: string | null
  /** The agent was deleted: it is answered like an unknown agent and its silence is no news. */
  retired?: boolean
}

/** The owner after a call about `ref` (with what the call knows); null when `ref` is another agent's. */
export function mergeOwner(
  current: Owner | null,
  ref: { clientId: string; agentId: string },
  update: Partial<Pick<Owner, 'agentVersion' | 'instanceId'>> = {},
): Owner | null {
  if (current && (current.clientId !== ref.clientId || current.agentId !== ref.agentId)) return null
  return {
    clientId: ref.clientId,
    agentId: ref.agentId,
    agentVersion: update.agentVersion !== undefined ? update.agentVersion : (current?.agentVersion ?? null),
    instanceId: update.instanceId ?? current?.instanceId ?? null,
    retired: current?.retired ?? false,
  }
}
