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
