/**
 * The only module that calls the instance metadata service. IMDSv2 only: one session token, cached
 * until shortly before it expires; a 404 means "not there" (no notice), never an error.
 */
import * as z from 'zod'
import type { Clock } from './clock'
import { send } from './net/request'

/** Seconds a token lives (the IMDS maximum). */
export const TOKEN_TTL_SECONDS = 21_600
/** Renew this long before expiry so a token never dies mid-request. */
const TOKEN_MARGIN_MS = 60_000
const TIMEOUT_MS = 2_000

export class ImdsError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
    this.name = 'ImdsError'
  }
}

export const IdentityDocument = z.object({
  instanceId: z.string(),
  instanceType: z.string(),
  region: z.string(),
  availabilityZone: z.string(),
  imageId: z.string().nullish(),
  privateIp: z.string().nullish(),
  accountId: z.string().nullish(),
})

/** What the agent knows about its own instance. */
export interface Identity {
  instanceId: string
  instanceType: string
  region: string
  az: string
  amiId: string | null
  privateIp: string | null
  publicIp: string | null
  hostname: string | null
  mode: 'spot' | 'ondemand'
}

export const RoleCredentials = z.object({
  AccessKeyId: z.string(),
  SecretAccessKey: z.string(),
  Token: z.string(),
  Expiration: z.string(),
})
export type RoleCredentials = z.infer<typeof RoleCredentials>

/** The signed instance identity document, as IMDS serves it (the signature covers its exact bytes). */
export interface IdentityProof {
  document: string
  /** Base64 RSA PKCS#1 v1.5 / SHA-256 (`.../signature`; `pkcs7` is DSA, which the control plane can't verify). */
  signature: string
}

export interface Imds {
  /** Text at `latest/<path>`, or null on 404. */
  get(path: string): Promise<string | null>
  identity(): Promise<Identity>
  /** The document and its RSA signature; null when IMDS serves no signature. */
  identityProof(): Promise<IdentityProof | null>
  roleCredentials(): Promise<RoleCredentials>
  /** Token fetches so far (the benchmark's figure). */
  readonly tokenFetches: number
}

export function createImds(endpoint: string, clock: Clock): Imds {
  const base = endpoint.replace(/\/+$/, '')
  let token: { value: string; renewAt: number } | null = null
  let pendingToken: Promise<string> | null = null
  let role: string | null = null
  let tokenFetches = 0

  async function fetchToken(): Promise<string> {
    tokenFetches++
    const res = await send(`${base}/latest/api/token`, {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) },
      timeoutMs: TIMEOUT_MS,
    })
    if (!res.ok) throw new ImdsError(`IMDS token request answered ${res.status}`, res.status)
    const value = res.text.trim()
    token = { value, renewAt: clock.now() + TOKEN_TTL_SECONDS * 1000 - TOKEN_MARGIN_MS }
    return value
  }

  async function currentToken(): Promise<string> {
    if (token && clock.now() < token.renewAt) return token.value
    // Concurrent readers share one token request.
    pendingToken ??= fetchToken().finally(() => (pendingToken = null))
    return pendingToken
  }

  async function get(path: string): Promise<string | null> {
    for (let attempt = 0; ; attempt++) {
      const res = await send(`${base}/latest/${path}`, {
        headers: { 'X-aws-ec2-metadata-token': await currentToken() },
        timeoutMs: TIMEOUT_MS,
      })
      if (res.status === 404) return null
      if (res.status === 401 && attempt === 0) {
        token = null // revoked or expired early: one fresh token, then give up
        continue
      }
      if (!res.ok) throw new ImdsError(`IMDS ${path} answered ${res.status}`, res.status)
      return res.text
    }
  }

  async function must(path: string): Promise<string> {
    const text = await get(path)
    if (text === null) throw new ImdsError(`IMDS has no ${path}`, 404)
    return text
  }

  return {
    get,
    get tokenFetches() {
      return tokenFetches
    },
    async identity() {
      const doc = IdentityDocument.parse(JSON.parse(await must('dynamic/instance-identity/document')))
      const [lifecycle, publicIp, hostname] = await Promise.all([
        get('meta-data/instance-life-cycle'),
        get('meta-data/public-ipv4'),
        get('meta-data/local-hostname'),
      ])
      return {
        instanceId: doc.instanceId,
        instanceType: doc.instanceType,
        region: doc.region,
        az: doc.availabilityZone,
        amiId: doc.imageId ?? null,
        privateIp: doc.privateIp ?? null,
        publicIp: publicIp?.trim() || null,
        hostname: hostname?.trim() || null,
        mode: lifecycle?.trim() === 'spot' ? 'spot' : 'ondemand',
      }
    },
    async identityProof() {
      const [document, signature] = await Promise.all([
        get('dynamic/instance-identity/document'),
        get('dynamic/instance-identity/signature'),
      ])
      return document && signature ? { document, signature: signature.trim() } : null
    },
    async roleCredentials() {
      role ??= (await must('meta-data/iam/security-credentials/')).split('\n')[0]?.trim() || null
      if (!role) throw new ImdsError('the instance has no IAM instance profile', 404)
      const text = await get(`meta-data/iam/security-credentials/${role}`)
      if (text === null) {
        role = null // the profile changed: look the role up again next time
        throw new ImdsError('instance profile credentials not found', 404)
      }
      return RoleCredentials.parse(JSON.parse(text))
    },
  }
}
