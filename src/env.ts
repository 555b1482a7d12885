/** Typed bindings of the Worker and the per-request variables set by middleware. */
import type { Principal } from './auth/principal'
import type { AgentSessionNamespace } from './session/stub'

export interface Env {
  DB: D1Database
  AGENT_SESSION: AgentSessionNamespace
  ASSETS?: Fetcher
  /** The operator's bearer on every /api/admin and /api/client route. */
  ADMIN_TOKEN: string
  /** Hours a rotated client token keeps working. */
  TOKEN_GRACE_HOURS?: string
  /** Local simulations only: `<origin epoch ms>x<speed>` (src/clock.ts). */
  SIM_CLOCK?: string
}

export interface Vars {
  requestId: string
  principal: Principal
  /** Set when a browser session authenticated the request. */
  session?: { id: string; csrfToken: string; email: string }
}

export type AppEnv = { Bindings: Env; Variables: Vars }
