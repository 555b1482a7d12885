/**
 * The fake ELBv2's actions, in the real Query shapes (API 2015-12-01): `<XResponse><XResult>` with
 * `<member>` lists, and its errors (`TargetGroupNotFound`, `InvalidTarget`, `ValidationError`).
 */
import { leaf, node } from '../ec2/xml'
import { healthOf, NOT_REGISTERED, type Elbv2State, type TargetGroup, type TargetHealth } from './model'

export class Elbv2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message)
  }
}

export type Elbv2Handler = (state: Elbv2State, params: URLSearchParams) => string

export const ELBV2_ACTIONS: Record<string, Elbv2Handler> = {
  DescribeTargetGroups: describeTargetGroups,
  DescribeTargetHealth: describeTargetHealth,
  RegisterTargets: registerTargets,
  DeregisterTargets: deregisterTargets,
}

function describeTargetGroups(state: Elbv2State, params: URLSearchParams): string {
  const arns = list(params, 'TargetGroupArns.member')
  const names = list(params, 'Names.member')
  const loadBalancer = params.get('LoadBalancerArn')
  let groups = [...state.groups.values()]
  if (arns.length > 0) groups = arns.map((arn) => groupOf(state, arn))
  if (names.length > 0) {
    groups = names.map((name) => {
      const g = groups.find((x) => x.name === name)
      if (!g) throw new Elbv2Error('TargetGroupNotFound', `Target groups '${name}' not found`)
      return g
    })
  }
  if (loadBalancer) groups = groups.filter((g) => g.loadBalancerArns.includes(loadBalancer))
  const pageSize = Number(params.get('PageSize') ?? 400)
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 400)
    throw new Elbv2Error(
      'ValidationError',
      `1 validation error detected: Value '${params.get('PageSize')}' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to 400`,
    )
  const start = Number(params.get('Marker') ?? 0)
  const page = groups.slice(start, start + pageSize)
  const next = start + pageSize < groups.length ? String(start + pageSize) : undefined
  return node('TargetGroups', ...page.map((g) => node('member', renderGroup(g)))) + leaf('NextMarker', next)
}

function describeTargetHealth(state: Elbv2State, params: URLSearchParams): string {
  const group = groupOf(state, required(params, 'TargetGroupArn'))
  const asked = targetsOf(params, group)
  const rows: Array<{ id: string; port: number; health: TargetHealth }> = []
  if (asked.length === 0) {
    for (const r of group.registrations)
      rows.push({ id: r.id, port: r.port, health: healthOf(state, group, r) })
  } else {
    invalidTargets(state, asked, 'The following targets are not valid')
    for (const t of asked) {
      const found = group.registrations.filter(
        (r) => r.id === t.id && (t.explicitPort ? r.port === t.port : true),
      )
      if (found.length === 0) rows.push({ id: t.id, port: t.port, health: NOT_REGISTERED })
      for (const r of found) rows.push({ id: r.id, port: r.port, health: healthOf(state, group, r) })
    }
  }
  return node(
    'TargetHealthDescriptions',
    ...rows.map((row) =>
      node(
        'member',
        leaf('HealthCheckPort', String(row.port)),
        node('Target', leaf('Id', row.id), leaf('Port', row.port)),
        node(
          'TargetHealth',
          leaf('State', row.health.state),
          'reason' in row.health
            ? leaf('Reason', row.health.reason) + leaf('Description', row.health.description)
            : '',
        ),
      ),
    ),
  )
}

function registerTargets(state: Elbv2State, params: URLSearchParams): string {
  const group = groupOf(state, required(params, 'TargetGroupArn'))
  const targets = targetsOf(params, group)
  if (targets.length === 0) throw missing('targets')
  invalidTargets(state, targets, 'The following targets are not valid')
  const stopped = targets.filter((t) => state.instance(t.id)?.state !== 'running')
  if (stopped.length > 0)
    throw new Elbv2Error(
      'InvalidTarget',
      `The following targets are not in a running state and cannot be registered: ${quoted(stopped)}`,
    )
  const elsewhere = targets.filter((t) => state.instance(t.id)?.vpcId !== group.vpcId)
  if (elsewhere.length > 0)
    throw new Elbv2Error(
      'InvalidTarget',
      `The following targets are not in the target group VPC '${group.vpcId}': ${quoted(elsewhere)}`,
    )
  const now = state.clock.now()
  for (const t of targets) {
    const live = group.registrations.find(
      (r) => r.id === t.id && r.port === t.port && r.deregisteredAt === null,
    )
    if (live) continue
    // Registered again while draining: the draining one is replaced.
    group.registrations = group.registrations.filter((r) => !(r.id === t.id && r.port === t.port))
    group.registrations.push({ id: t.id, port: t.port, registeredAt: now, deregisteredAt: null })
    state.events.push({ at: now, kind: 'registered', targetGroupArn: group.arn, id: t.id, port: t.port })
  }
  return ''
}

function deregisterTargets(state: Elbv2State, params: URLSearchParams): string {
  const group = groupOf(state, required(params, 'TargetGroupArn'))
  const targets = targetsOf(params, group)
  if (targets.length === 0) throw missing('targets')
  invalidTargets(state, targets, 'The following targets are not valid')
  const now = state.clock.now()
  for (const t of targets) {
    for (const r of group.registrations) {
      if (r.id !== t.id || r.port !== t.port || r.deregisteredAt !== null) continue
      r.deregisteredAt = now
      state.events.push({ at: now, kind: 'deregistering', targetGroupArn: group.arn, id: t.id, port: t.port })
    }
  }
  return ''
}

function renderGroup(g: TargetGroup): string {
  return (
    leaf('TargetGroupArn', g.arn) +
    leaf('TargetGroupName', g.name) +
    leaf('Protocol', g.protocol) +
    leaf('Port', g.port) +
    leaf('VpcId', g.vpcId) +
    leaf('HealthCheckProtocol', g.protocol) +
    leaf('HealthCheckPort', 'traffic-port') +
    leaf('HealthCheckEnabled', true) +
    leaf('HealthCheckIntervalSeconds', 30) +
    leaf('HealthCheckTimeoutSeconds', 5) +
    leaf('HealthyThresholdCount', 5) +
    leaf('UnhealthyThresholdCount', 2) +
    leaf('HealthCheckPath', '/') +
    node('Matcher', leaf('HttpCode', '200')) +
    node('LoadBalancerArns', ...g.loadBalancerArns.map((arn) => leaf('member', arn))) +
    leaf('TargetType', 'instance') +
    leaf('ProtocolVersion', 'HTTP1') +
    leaf('IpAddressType', 'ipv4')
  )
}

function groupOf(state: Elbv2State, arn: string): TargetGroup {
  const group = state.groups.get(arn)
  if (!group) throw new Elbv2Error('TargetGroupNotFound', `Target groups '${arn}' not found`)
  return group
}

/** `Targets.member.N.Id/Port`; a target without a port takes the group's (as ELBv2 does). */
function targetsOf(params: URLSearchParams, group: TargetGroup) {
  const out: Array<{ id: string; port: number; explicitPort: boolean }> = []
  for (let n = 1; params.has(`Targets.member.${n}.Id`); n++) {
    const raw = params.get(`Targets.member.${n}.Port`)
    const port = raw === null ? group.port : Number(raw)
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new Elbv2Error(
        'ValidationError',
        `1 validation error detected: Value '${raw}' at 'targets.${n}.member.port' failed to satisfy constraint: Member must have value less than or equal to 65535`,
      )
    out.push({ id: params.get(`Targets.member.${n}.Id`)!, port, explicitPort: raw !== null })
  }
  return out
}

/** Instance targets EC2 does not know are refused as ELBv2 does. */
function invalidTargets(state: Elbv2State, targets: Array<{ id: string }>, message: string): void {
  const unknown = targets.filter((t) => !state.instance(t.id))
  if (unknown.length > 0) throw new Elbv2Error('InvalidTarget', `${message}: ${quoted(unknown)}`)
}

function quoted(targets: Array<{ id: string }>): string {
  return targets.map((t) => `'${t.id}'`).join(', ')
}

function list(params: URLSearchParams, prefix: string): string[] {
  const out: string[] = []
  for (let n = 1; params.has(`${prefix}.${n}`); n++) out.push(params.get(`${prefix}.${n}`)!)
  return out
}

function required(params: URLSearchParams, name: string): string {
  const value = params.get(name)
  if (!value) throw missing(name.charAt(0).toLowerCase() + name.slice(1))
  return value
}

function missing(field: string): Elbv2Error {
  return new Elbv2Error(
    'ValidationError',
    `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
  )
}
