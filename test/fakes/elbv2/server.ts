/**
 * The fake ELBv2 (Elastic Load Balancing, API 2015-12-01) linked to a fake EC2: its own HTTP server
 * (AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2), SigV4 for service `elasticloadbalancing`, failure
 * injection, a request log and the order of target events.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { escapeXml } from '../ec2/xml'
import { createInjector, type Injector } from '../ec2/inject'
import type { FakeEc2 } from '../ec2/server'
import { header, serve, type FakeRequest, type FakeResponse } from '../http'
import { TEST_CREDENTIALS, verifySigV4, type AwsCredentials } from '../sigv4'
import { ELBV2_ACTIONS, Elbv2Error } from './actions'
import { tick, type Elbv2Event, type Elbv2State, type TargetGroup } from './model'

export const ELBV2_API_VERSION = '2015-12-01'
const NAMESPACE = `http://elasticloadbalancing.amazonaws.com/doc/${ELBV2_API_VERSION}/`

export interface Elbv2RequestLogEntry {
  action: string
  /** Epoch ms by the fake's clock */
  at: number
  status: number
  code?: string
  params: Record<string, string>
}

export interface TargetGroupSeed {
  name: string
  vpcId: string
  port?: number
  protocol?: string
  /** Seconds a deregistered target drains (ELBv2's default: 300). */
  deregistrationDelaySeconds?: number
  /** Seconds a registered target stays `initial` (default 30). */
  healthySeconds?: number
  /** Instances registered at once (on the group's port), healthy from now. */
  targets?: string[]
}

export interface FakeElbv2 extends Omit<Injector, 'failureFor' | 'isDenied'> {
  url: string
  state: Elbv2State
  requests: Elbv2RequestLogEntry[]
  /** Seeds a target group; answers its ARN. */
  addTargetGroup(seed: TargetGroupSeed): string
  /** Targets of a group now (by the clock), with their health state. */
  targetsOf(arn: string): Array<{ id: string; port: number; draining: boolean }>
  events: Elbv2Event[]
  tick(): void
  count(action?: string): number
  addCredentials(credentials: AwsCredentials): void
  close(): Promise<void>
}

export async function startFakeElbv2(
  ec2: FakeEc2,
  options: { credentials?: AwsCredentials[]; port?: number } = {},
): Promise<FakeElbv2> {
  const state: Elbv2State = {
    region: ec2.state.region,
    accountId: ec2.state.accountId,
    clock: ec2.state.clock,
    groups: new Map(),
    events: [],
    instance: (id) => {
      const i = ec2.instance(id)
      return i ? { state: i.state, vpcId: i.vpcId ?? null } : undefined
    },
  }
  const credentials = new Map((options.credentials ?? [TEST_CREDENTIALS]).map((c) => [c.accessKeyId, c]))
  const requests: Elbv2RequestLogEntry[] = []
  const inject = createInjector()
  const advance = () => {
    ec2.tick()
    tick(state)
  }

  async function handle(req: FakeRequest): Promise<FakeResponse> {
    advance()
    const requestId = randomUUID()
    const params = new URLSearchParams(req.body)
    for (const [key, value] of req.query) params.append(key, value)
    const action = params.get('Action') ?? ''
    const entry: Elbv2RequestLogEntry = {
      action,
      at: state.clock.now(),
      status: 200,
      params: Object.fromEntries(params),
    }
    requests.push(entry)
    const fail = (code: string, message: string, status: number): FakeResponse => {
      entry.status = status
      entry.code = code
      return {
        status,
        headers: { 'content-type': 'text/xml' },
        body:
          `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
          `<Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error>` +
          `<RequestId>${requestId}</RequestId></ErrorResponse>`,
      }
    }

    const auth = await verifySigV4(req, {
      region: state.region,
      service: 'elasticloadbalancing',
      lookup: (id) => credentials.get(id),
    })
    // An unknown key is InvalidClientTokenId; a known one scoped to another service or region, or a
    // wrong signature, SignatureDoesNotMatch (as ELBv2 answers).
    if (!auth.ok)
      return auth.kind === 'auth' && auth.accessKeyId === undefined
        ? fail('InvalidClientTokenId', 'The security token included in the request is invalid.', 403)
        : fail('SignatureDoesNotMatch', auth.message, 403)
    if (
      !(header(req.headers, 'content-type') ?? 'application/x-www-form-urlencoded').startsWith(
        'application/x-www-form-urlencoded',
      )
    )
      return fail('ValidationError', 'Content-Type must be application/x-www-form-urlencoded', 400)
    const handler = ELBV2_ACTIONS[action]
    if (!handler)
      return fail(
        'InvalidAction',
        `Could not find operation ${action} for version ${params.get('Version')}`,
        400,
      )
    if (params.get('Version') !== ELBV2_API_VERSION)
      return fail(
        'InvalidAction',
        `Could not find operation ${action} for version ${params.get('Version')}`,
        400,
      )
    // deny(): a role without the permission, answered as IAM does for ELBv2.
    const failure = inject.failureFor(action, params)
    if (failure?.code === 'UnauthorizedOperation')
      return fail(
        'AccessDenied',
        `User: arn:aws:sts::${state.accountId}:assumed-role/spotguard-role/i is not authorized to perform: elasticloadbalancing:${action}`,
        403,
      )
    if (failure)
      return fail(
        failure.code,
        failure.message ?? `Injected failure: ${failure.code}`,
        failure.code === 'Throttling' ? 400 : 500,
      )
    try {
      const body = handler(state, params)
      return {
        status: 200,
        headers: { 'content-type': 'text/xml' },
        body:
          `<${action}Response xmlns="${NAMESPACE}"><${action}Result>${body}</${action}Result>` +
          `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
      }
    } catch (err) {
      if (err instanceof Elbv2Error) return fail(err.code, err.message, err.status)
      console.error(`fake ELBv2 ${action} failed:`, err)
      return fail('InternalFailure', 'The request processing has failed because of an unknown error.', 500)
    }
  }

  const server = await serve(handle, options.port)
  return {
    url: server.url,
    state,
    requests,
    events: state.events,
    addTargetGroup(seed) {
      const arn = `arn:aws:elasticloadbalancing:${state.region}:${state.accountId}:targetgroup/${seed.name}/${randomBytes(8).toString('hex')}`
      const now = state.clock.now()
      const healthyAfterMs = (seed.healthySeconds ?? 30) * 1000
      const group: TargetGroup = {
        arn,
        name: seed.name,
        vpcId: seed.vpcId,
        protocol: seed.protocol ?? 'HTTP',
        port: seed.port ?? 80,
        deregistrationDelayMs: (seed.deregistrationDelaySeconds ?? 300) * 1000,
        healthyAfterMs,
        loadBalancerArns: [],
        registrations: (seed.targets ?? []).map((id) => ({
          id,
          port: seed.port ?? 80,
          registeredAt: now - healthyAfterMs,
          deregisteredAt: null,
        })),
      }
      state.groups.set(arn, group)
      return arn
    },
    targetsOf(arn) {
      advance()
      const group = state.groups.get(arn)
      if (!group) throw new Error(`no target group ${arn}`)
      return group.registrations.map((r) => ({ id: r.id, port: r.port, draining: r.deregisteredAt !== null }))
    },
    tick: advance,
    count: (action) => requests.filter((r) => action === undefined || r.action === action).length,
    failNext: inject.failNext,
    failWhen: inject.failWhen,
    deny: inject.deny,
    allow: inject.allow,
    addCredentials: (c) => credentials.set(c.accessKeyId, c),
    close: () => server.close(),
  }
}
