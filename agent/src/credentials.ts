/** AWS credentials for signing: the instance profile's, from IMDS, refreshed before they expire. */
import type { Clock } from './clock'
import type { Imds } from './imds'

export interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  /** Epoch ms; null for static keys. */
  expiresAt: number | null
}

export interface CredentialSource {
  get(): Promise<AwsCredentials>
}

/** Refresh this long before `Expiration` (AWS rotates profile credentials ~1 h ahead; 5 min is safe). */
export const REFRESH_MARGIN_MS = 5 * 60_000

/** Instance-profile credentials, cached until REFRESH_MARGIN_MS before their expiry. */
export function instanceProfileCredentials(imds: Imds, clock: Clock): CredentialSource {
  let cached: AwsCredentials | null = null
  let pending: Promise<AwsCredentials> | null = null
  const fresh = (c: AwsCredentials) => c.expiresAt === null || clock.now() < c.expiresAt - REFRESH_MARGIN_MS
  return {
    async get() {
      if (cached && fresh(cached)) return cached
      pending ??= imds
        .roleCredentials()
        .then((r) => {
          const expiresAt = Date.parse(r.Expiration)
          cached = {
            accessKeyId: r.AccessKeyId,
            secretAccessKey: r.SecretAccessKey,
            sessionToken: r.Token,
            expiresAt: Number.isFinite(expiresAt) ? expiresAt : clock.now() + REFRESH_MARGIN_MS * 2,
          }
          return cached
        })
        .finally(() => (pending = null))
      return pending
    },
  }
}

/** Keys from the environment (AWS_ACCESS_KEY_ID...), when set: they win over the instance profile. */
export function environmentCredentials(env: Record<string, string | undefined>): CredentialSource | null {
  const accessKeyId = env.AWS_ACCESS_KEY_ID
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY
  if (!accessKeyId || !secretAccessKey) return null
  const creds: AwsCredentials = {
    accessKeyId,
    secretAccessKey,
    sessionToken: env.AWS_SESSION_TOKEN,
    expiresAt: null,
  }
  return { get: async () => creds }
}
