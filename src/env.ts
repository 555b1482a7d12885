/** Typed bindings of the Worker, its settings parsed once, and the per-request variables set by middleware. */
import * as z from 'zod'
import { certificatesOf } from './auth/instance-identity'
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
  /** `on`: count D1 rows written (the control-plane benchmark's own Worker; db/d1-meter.ts). */
  D1_METER?: string
  /** `on`: serve the soak's row reads under /__debug (the soak's own Worker). */
  SOAK_READS?: string
  /** `on`: webhooks may use http:// (local development only; private addresses stay refused). */
  WEBHOOK_ALLOW_HTTP?: string
  /**
   * PEM X.509 certificates whose keys sign instance identity documents (AWS's RSA certificate per
   * region; the test Worker trusts test/fakes/imds's test certificate). Empty: every agent is unverified.
   */
  IID_TRUST_CERTS?: string
}

/** A bad or missing value takes its default: a typo in a var never stops the Worker. */
const SettingsSchema = z.object({
  TOKEN_GRACE_HOURS: z
    .string()
    .trim()
    .min(1)
    .transform(Number)
    .pipe(z.number().finite().nonnegative())
    .catch(24),
  SIM_CLOCK: z
    .string()
    .regex(/^\d+x\d+(?:\.\d+)?$/)
    .transform((spec) => {
      const [origin, speed] = spec.split('x').map(Number) as [number, number]
      return { origin, speed }
    })
    .nullable()
    .catch(null),
  D1_METER: z.literal('on').nullable().catch(null),
  SOAK_READS: z.literal('on').nullable().catch(null),
  WEBHOOK_ALLOW_HTTP: z.literal('on').nullable().catch(null),
  IID_TRUST_CERTS: z.string().transform(certificatesOf).catch([]),
})

export interface Settings {
  /** Hours a rotated client token keeps working (`TOKEN_GRACE_HOURS`, default 24). */
  tokenGraceHours: number
  /** The simulated clock of a local simulation; null deployed. */
  simClock: { origin: number; speed: number } | null
  d1Meter: boolean
  soakReads: boolean
  /** `WEBHOOK_ALLOW_HTTP=on`: http:// webhooks accepted (dev only); https only otherwise. */
  webhookAllowHttp: boolean
  /** The trusted certificates of instance identity documents (PEM each); empty trusts none. */
  identityTrust: readonly string[]
}

const parsed = new WeakMap<Env, Settings>()

/** The settings of `env`, parsed on first use (the env object is the same for a whole isolate). */
export function settingsOf(env: Env): Settings {
  let settings = parsed.get(env)
  if (!settings) {
    const vars = SettingsSchema.parse(env)
    settings = {
      tokenGraceHours: vars.TOKEN_GRACE_HOURS,
      simClock: vars.SIM_CLOCK,
      d1Meter: vars.D1_METER === 'on',
      soakReads: vars.SOAK_READS === 'on',
      webhookAllowHttp: vars.WEBHOOK_ALLOW_HTTP === 'on',
      identityTrust: vars.IID_TRUST_CERTS,
    }
    parsed.set(env, settings)
  }
  return settings
}

export interface Vars {
  requestId: string
  principal: Principal
  /** Set when a browser session authenticated the request. */
  session?: { id: string; csrfToken: string; email: string }
}

export type AppEnv = { Bindings: Env; Variables: Vars }
