/**
 * Who a request acts for. Types and one predicate, importing nothing of ours: env.ts types its request variables
 * with them, and the middleware, sessions and audit build on them without an import cycle.
 */
export type Principal =
  | { kind: 'agent'; clientId: string; verified?: VerifiedAgent }
  | { kind: 'admin'; userId: string | null }
  | { kind: 'user'; userId: string; clientId: string; role: 'owner' | 'viewer' }

/** A signed-in person: the operator, an admin, or a client user. */
export type Person = Exclude<Principal, { kind: 'agent' }>

/** An agent token's binding: the one agent and instance (of a signed identity document) it acts for. */
export interface VerifiedAgent {
  agentId: string
  accountId: string
  region: string
  instanceId: string
}

/**
 * True when what the principal reports may feed other tenants' decisions: only an agent that proved its
 * instance with a signed identity document (an agent token); a client token proves nothing about where
 * it runs, so an unverified (legacy) agent's reports drive its own client only.
 */
export function feedsOtherTenants(principal: Principal): boolean {
  return principal.kind === 'agent' && principal.verified !== undefined
}
