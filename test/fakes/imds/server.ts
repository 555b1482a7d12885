/** Fake IMDS, IMDSv2 only: a PUT token first, then GETs carrying it. Notices and credential rotation are driven. */
import { randomBytes } from 'node:crypto'
import { systemClock, type Clock } from '../clock'
import { header, serve, type FakeRequest, type FakeResponse } from '../http'
import type { AwsCredentials } from '../sigv4'
import {
  TAGS_DIR,
  listing,
  metadataTree,
  type ImdsInstance,
  type Notices,
  type RoleCredentials,
  type ScheduledEvent,
} from './metadata'

export interface FakeImdsOptions {
  /** Read on every request, so a linked view follows the fake EC2 (a moved Elastic IP, a new state) */
  instance: () => ImdsInstance
  clock?: Clock
  /** Role behind the instance profile; defaults to `spotguard-role` when the instance has a profile */
  role?: string
  /** Lifetime of issued role credentials (6 h) */
  credentialTtlMs?: number
  /** Told of every credential set issued, so fakes of AWS can accept them */
  onCredentials?: (credentials: AwsCredentials) => void
  port?: number
}

export interface ImdsCounts {
  requests: number
  tokenFetches: number
  unauthorized: number
}

export interface FakeImds {
  url: string
  counts: ImdsCounts
  /** Every request, token PUTs included; `at` by the clock (epoch ms) */
  requests: Array<{ method: string; path: string; status: number; at: number }>
  /** The role credentials currently served (issued on first need) */
  credentials(): RoleCredentials | undefined
  interrupt(notice: { action: 'terminate' | 'stop' | 'hibernate'; time: number | Date }): void
  rebalance(time: number | Date): void
  scheduledEvent(event: ScheduledEvent): void
  clear(): void
  rotateCredentials(): RoleCredentials
  expireTokens(): void
  close(): Promise<void>
}

const MAX_TTL_SECONDS = 21_600
/** IMDS hands out fresh role credentials this long before the current ones expire. */
const REFRESH_BEFORE_MS = 15 * 60_000

export async function startFakeImds(options: FakeImdsOptions): Promise<FakeImds> {
  const clock = options.clock ?? systemClock
  const ttlMs = options.credentialTtlMs ?? 6 * 3_600_000
  const tokens = new Map<string, number>()
  const notices: Notices = { scheduled: [] }
  const counts: ImdsCounts = { requests: 0, tokenFetches: 0, unauthorized: 0 }
  const requests: FakeImds['requests'] = []
  let current: RoleCredentials | undefined

  function issue(): RoleCredentials {
    const now = clock.now()
    current = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(20).toString('base64'),
      sessionToken: `IQoJ${randomBytes(48).toString('base64')}`,
      issuedAt: now,
      expiresAt: now + ttlMs,
    }
    options.onCredentials?.({
      accessKeyId: current.accessKeyId,
      secretAccessKey: current.secretAccessKey,
      sessionToken: current.sessionToken,
    })
    return current
  }

  function credentialsNow(): RoleCredentials | undefined {
    if (!options.instance().profile) return undefined
    if (!current || clock.now() >= current.expiresAt - REFRESH_BEFORE_MS) return issue()
    return current
  }

  function route(req: FakeRequest): FakeResponse {
    const text = (status: number, body: string): FakeResponse => ({
      status,
      headers: { 'content-type': 'text/plain' },
      body,
    })
    if (req.path === '/latest/api/token') {
      if (req.method !== 'PUT') return text(405, 'Method Not Allowed')
      if (header(req.headers, 'x-forwarded-for')) return text(403, 'Forbidden')
      const raw = header(req.headers, 'x-aws-ec2-metadata-token-ttl-seconds')
      const ttl = Number(raw)
      if (raw === undefined || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS)
        return text(400, 'Bad Request')
      counts.tokenFetches++
      const token = randomBytes(32).toString('base64')
      tokens.set(token, clock.now() + ttl * 1000)
      return {
        status: 200,
        headers: { 'content-type': 'text/plain', 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) },
        body: token,
      }
    }
    const token = header(req.headers, 'x-aws-ec2-metadata-token')
    const expiresAt = token === undefined ? undefined : tokens.get(token)
    if (expiresAt === undefined || expiresAt <= clock.now()) {
      counts.unauthorized++
      return text(401, 'Unauthorized')
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'Method Not Allowed')
    if (!req.path.startsWith('/latest/')) return text(404, 'Not Found')
    const path = req.path.slice('/latest/'.length)
    const instance = options.instance()
    const role = instance.profile ? (options.role ?? 'spotguard-role') : undefined
    const tree = metadataTree(instance, role, credentialsNow(), notices)
    const dir = path.replace(/\/?$/, '/')
    const isDir = path.endsWith('/') || path === 'meta-data' || dir === TAGS_DIR
    // Tags enabled but none set: an empty listing, not a 404 (that means "not enabled").
    const body = isDir
      ? (listing(tree, dir) ?? (dir === TAGS_DIR && instance.tags ? '' : undefined))
      : tree.get(path)
    return body === undefined ? text(404, 'Not Found') : text(200, body)
  }

  const server = await serve((req) => {
    counts.requests++
    const out = route(req)
    requests.push({ method: req.method, path: req.path, status: out.status, at: clock.now() })
    return out
  }, options.port)

  const ms = (t: number | Date) => (typeof t === 'number' ? t : t.getTime())
  return {
    url: server.url,
    counts,
    requests,
    credentials: () => current,
    interrupt: ({ action, time }) => {
      notices.instanceAction = { action, time: ms(time) }
    },
    rebalance: (time) => {
      notices.rebalance = { noticeTime: ms(time) }
    },
    scheduledEvent: (event) => {
      notices.scheduled.push(event)
    },
    clear: () => {
      notices.instanceAction = undefined
      notices.rebalance = undefined
      notices.scheduled = []
    },
    rotateCredentials: () => issue(),
    expireTokens: () => tokens.clear(),
    close: () => server.close(),
  }
}
