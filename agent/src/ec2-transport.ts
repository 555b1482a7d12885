/**
 * The only module that calls EC2: the Query API (form-encoded POST, Version 2016-11-15) signed with
 * aws4fetch's signer (net/aws.ts), answers parsed with a real XML parser, failures turned into typed Ec2Errors. Throttling
 * and server errors are retried here with backoff; everything else is the caller's decision. ELBv2
 * speaks the same Query protocol: elbv2.ts reaches it through `createQueryApi`.
 */
import { XMLParser } from 'fast-xml-parser'
import { backoffMs, type Clock } from './clock'
import type { CredentialSource } from './credentials'
import type { Log } from './log'
import { sendSigned } from './net/aws'
import type { HttpAnswer } from './net/request'

export const EC2_API_VERSION = '2016-11-15'
const TIMEOUT_MS = 30_000
const MAX_ATTEMPTS = 5

export type Ec2ErrorKind =
  'capacity' | 'throttled' | 'unauthorized' | 'not_found' | 'invalid' | 'server' | 'network' | 'dry_run'

const CAPACITY = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientCapacity',
  'InsufficientHostCapacity',
  'InsufficientReservedInstanceCapacity',
  'SpotMaxPriceTooLow',
  'MaxSpotInstanceCountExceeded',
  'InstanceLimitExceeded',
  'VcpuLimitExceeded',
  'Unsupported',
])
const THROTTLED = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'RequestThrottled'])
// AccessDenied: ELBv2's answer to a missing permission.
const UNAUTHORIZED = new Set([
  'UnauthorizedOperation',
  'AuthFailure',
  'OptInRequired',
  'Blocked',
  'AccessDenied',
])

/** Classifies an EC2 error code. */
export function kindOf(code: string, status: number): Ec2ErrorKind {
  if (CAPACITY.has(code)) return 'capacity'
  if (THROTTLED.has(code)) return 'throttled'
  if (UNAUTHORIZED.has(code)) return 'unauthorized'
  if (code.endsWith('.NotFound') || (code.endsWith('.Malformed') && status === 404)) return 'not_found'
  if (status >= 500 || code === 'InternalError' || code === 'Unavailable' || code === 'ServiceUnavailable')
    return 'server'
  return 'invalid'
}

export class Ec2Error extends Error {
  readonly kind: Ec2ErrorKind
  constructor(
    readonly action: string,
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(`${action}: ${code}: ${message}`)
    this.name = 'Ec2Error'
    this.kind = code === 'DryRun' ? 'dry_run' : code === 'NetworkError' ? 'network' : kindOf(code, status)
  }
  /** Worth trying again later (the same call may succeed). */
  get retryable(): boolean {
    return (
      this.kind === 'throttled' ||
      this.kind === 'server' ||
      this.kind === 'network' ||
      this.kind === 'capacity'
    )
  }
}

/** Query parameters of one call, already flattened (`Filter.1.Name`...). */
export type Params = Record<string, string | number | boolean | undefined>

/** A parsed XML element: nested objects, `item` always an array, leaves as strings. */
export type Xml = { [key: string]: XmlValue }
export type XmlValue = string | Xml | XmlValue[] | undefined

/** What EC2 says of a call made with `DryRun=true`: it would be allowed, or why not. */
export type DryRunAnswer = { allowed: true } | { allowed: false; error: Ec2Error }

export interface Ec2 {
  /** A read (Describe*): always made, even in dry-run. */
  read(action: string, params?: Params): Promise<Xml>
  /** A write: in dry-run it is logged and throws Ec2Error(kind 'dry_run') instead. */
  write(action: string, params?: Params): Promise<Xml>
  /**
   * The call with `DryRun=true` (made in SPOTGUARD_DRY_RUN too: EC2 changes nothing): `allowed` when
   * EC2 answers DryRunOperation; UnauthorizedOperation (a missing permission) or any other error else.
   */
  dryRun(action: string, params?: Params): Promise<DryRunAnswer>
  readonly region: string
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  // EC2 lists `item`s, ELBv2 `member`s.
  isArray: (name) => name === 'item' || name === 'member' || name === 'Error',
})

/** Parses an EC2 answer; returns the content of its root element. */
export function parseXml(text: string): Xml {
  const doc = parser.parse(text) as Xml
  const root = Object.keys(doc).find((k) => !k.startsWith('?'))
  const value = root ? doc[root] : undefined
  return typeof value === 'object' && !Array.isArray(value) ? value : {}
}

/** The `item`s of a set element (`<reservationSet><item/>...`), [] when empty or absent. */
export function items(value: XmlValue): Xml[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return []
  const list = value.item
  return Array.isArray(list) ? list.filter((x): x is Xml => typeof x === 'object' && !Array.isArray(x)) : []
}

/** A child element's text, or null. */
export function text(value: XmlValue, key: string): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null
  const child = value[key]
  return typeof child === 'string' ? child : null
}

/** A child element, or {} (for chains like child(child(x, 'placement'), ...)). */
export function child(value: XmlValue, key: string): Xml {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {}
  const c = value[key]
  return c && typeof c === 'object' && !Array.isArray(c) ? c : {}
}

export interface Ec2Options {
  region: string
  endpoint: string | null
  credentials: CredentialSource
  clock: Clock
  log: Log
  dryRun: boolean
}

export function createEc2(options: Ec2Options): Ec2 {
  return createQueryApi(options, {
    label: 'EC2',
    service: 'ec2',
    version: EC2_API_VERSION,
    url: options.endpoint ?? `https://ec2.${options.region}.amazonaws.com/`,
  })
}

/** Which AWS Query API: the SigV4 service name, its API version and its endpoint. */
export interface QueryService {
  /** For logs: `EC2`, `ELBv2`. */
  label: string
  service: string
  version: string
  url: string
}

/** A Query API client (EC2's, ELBv2's): signing, retries, dry-run writes, errors as Ec2Error. */
export function createQueryApi(options: Ec2Options, api: QueryService): Ec2 {
  const { region, credentials, clock, log } = options
  const { url } = api

  async function once(action: string, params: Params): Promise<Xml> {
    const creds = await credentials.get()
    const body = new URLSearchParams({ Action: action, Version: api.version })
    for (const [k, v] of Object.entries(params)) if (v !== undefined) body.set(k, String(v))
    let res: HttpAnswer
    try {
      // Retries are decided in call(), by error kind.
      res = await sendSigned(url, creds, {
        service: api.service,
        region,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: body.toString(),
        timeoutMs: TIMEOUT_MS,
      })
    } catch (err) {
      throw new Ec2Error(action, 'NetworkError', err instanceof Error ? err.message : String(err), 0)
    }
    if (res.ok) return parseXml(res.text)
    const error = errorOf(res.text)
    throw new Ec2Error(action, error.code ?? `HTTP${res.status}`, error.message ?? 'no message', res.status)
  }

  async function call(action: string, params: Params): Promise<Xml> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await once(action, params)
      } catch (err) {
        const retry =
          err instanceof Ec2Error &&
          (err.kind === 'throttled' || err.kind === 'server' || err.kind === 'network') &&
          attempt + 1 < MAX_ATTEMPTS
        if (!retry) throw err
        const wait = backoffMs(attempt, err.kind === 'throttled' ? 1_000 : 300, 20_000)
        log.warn('ec2 call retried', { action, code: err.code, attempt: attempt + 1, wait_ms: wait })
        await clock.sleep(wait)
      }
    }
  }

  return {
    region,
    read: (action, params = {}) => call(action, params),
    async write(action, params = {}) {
      if (options.dryRun) {
        log.info(`dry run: ${api.label} write not made`, { action, params: summarise(params) })
        throw new Ec2Error(action, 'DryRun', 'SPOTGUARD_DRY_RUN is on', 0)
      }
      return call(action, params)
    },
    async dryRun(action, params = {}) {
      try {
        await call(action, { ...params, DryRun: true })
      } catch (err) {
        if (!(err instanceof Ec2Error)) throw err
        return err.code === 'DryRunOperation' ? { allowed: true } : { allowed: false, error: err }
      }
      // EC2 never answers a dry run with success: an endpoint that did made the call.
      throw new Ec2Error(action, 'DryRunIgnored', 'the endpoint made the call instead of a dry run', 200)
    },
  }
}

function errorOf(answer: string): { code?: string; message?: string } {
  try {
    const root = parseXml(answer)
    // EC2: <Response><Errors><Error>; ELBv2: <ErrorResponse><Error>.
    const errors = child(root, 'Errors').Error ?? root.Error
    const first = Array.isArray(errors) ? errors[0] : undefined
    return { code: text(first, 'Code') ?? undefined, message: text(first, 'Message') ?? undefined }
  } catch {
    return {}
  }
}

/** Params for the dry-run log line, without user data (it may hold secrets). */
function summarise(params: Params): Params {
  const out: Params = {}
  for (const [k, v] of Object.entries(params)) out[k] = /UserData/i.test(k) ? '[omitted]' : v
  return out
}
