/**
 * SigV4 verification for the fakes, with AWS's own signer (`@smithy/signature-v4`) rather than the
 * agent's aws4fetch: re-sign exactly the request's SignedHeaders with the known secret and compare.
 */
import { timingSafeEqual } from 'node:crypto'
import { Hash } from '@smithy/hash-node'
import { SignatureV4 } from '@smithy/signature-v4'
import { header, type FakeRequest } from './http'

export interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/** Accepted by every fake unless it is given other credentials. */
export const TEST_CREDENTIALS: AwsCredentials = {
  accessKeyId: 'AKIAFAKETEST0000000A',
  secretAccessKey: 'fake-secret-key',
  sessionToken: 'fake-session-token',
}

export type SigV4Outcome =
  | { ok: true; accessKeyId: string }
  /** `auth`: no usable credentials (unknown key, bad scope); `signature`: the signature itself is wrong */
  | { ok: false; kind: 'auth' | 'signature'; message: string; accessKeyId?: string }

export interface SigV4Expectation {
  region: string
  service: string
  lookup(accessKeyId: string): AwsCredentials | undefined
}

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/

/** Checks one request's Authorization header the way AWS does (no clock-skew check: the fakes' clocks are fake). */
export async function verifySigV4(req: FakeRequest, expect: SigV4Expectation): Promise<SigV4Outcome> {
  const authorization = header(req.headers, 'authorization')
  if (!authorization)
    return {
      ok: false,
      kind: 'auth',
      message: 'AWS was not able to validate the provided access credentials',
    }
  const match = AUTH_PATTERN.exec(authorization)
  if (!match) return { ok: false, kind: 'auth', message: 'Authorization header is malformed' }
  const [, accessKeyId = '', day = '', region, service, signedList = '', signature = ''] = match
  const credentials = expect.lookup(accessKeyId)
  if (!credentials)
    return {
      ok: false,
      kind: 'auth',
      message: 'AWS was not able to validate the provided access credentials',
    }
  if (region !== expect.region || service !== expect.service) {
    return {
      ok: false,
      kind: 'auth',
      accessKeyId,
      message: `Credential should be scoped to a valid region and service (${expect.region}/${expect.service}), not '${region}/${service}'.`,
    }
  }
  const amzDate = header(req.headers, 'x-amz-date') ?? ''
  const signingDate = parseAmzDate(amzDate)
  if (!signingDate || !amzDate.startsWith(day)) {
    return {
      ok: false,
      kind: 'signature',
      accessKeyId,
      message: 'X-Amz-Date is missing or does not match the credential scope',
    }
  }

  const signedNames = signedList.split(';')
  const headers: Record<string, string> = {}
  for (const name of signedNames) {
    const value = req.headers[name]
    if (value === undefined)
      return { ok: false, kind: 'signature', accessKeyId, message: `Signed header '${name}' is missing` }
    headers[name] = Array.isArray(value) ? value.join(',') : value
  }
  const signer = new SignatureV4({
    credentials,
    region: expect.region,
    service: expect.service,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  })
  const resigned = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: headers.host ?? '127.0.0.1',
      path: req.path,
      query: queryRecord(req.query),
      headers,
      body: req.body,
    },
    { signingDate, signableHeaders: new Set(signedNames) },
  )
  const expected = AUTH_PATTERN.exec(String(resigned.headers.authorization ?? ''))
  // Smithy adds the session token header itself: a client that did not sign it lists fewer headers.
  if (expected?.[5] !== signedList || !sameHex(expected[6] ?? '', signature)) {
    return {
      ok: false,
      kind: 'signature',
      accessKeyId,
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    }
  }
  return { ok: true, accessKeyId }
}

function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (!m) return undefined
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!))
}

function queryRecord(query: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key)
    out[key] = values.length === 1 ? values[0]! : values
  }
  return out
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))
}
