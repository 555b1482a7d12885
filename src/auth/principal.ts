/**
 * Who a request acts for. Types only, importing nothing of ours: env.ts types its request variables
 * with them, and the middleware, sessions and audit build on them without an import cycle.
 */
export type Principal =
  | { kind: 'agent'; clientId: string }
  | { kind: 'admin'; userId: string | null }
  | { kind: 'user'; userId: string; clientId: string; role: 'owner' | 'viewer' }

/** A signed-in person: the operator, an admin, or a client user. */
export type Person = Exclude<Principal, { kind: 'agent' }>

/**
 * Whether what this principal reports (prices) may feed other tenants' prices, through a consensus
 * (prices/resolve.ts). Every client token does for now; per-agent identity narrows it to a verified
 * per-agent token, so that an unverified (installed 4.0.0 / 3.2.0) agent's reports drive only its own
 * client's decisions.
 */
export function feedsOtherTenants(principal: Principal): boolean {
  return principal.kind === 'agent'
}
