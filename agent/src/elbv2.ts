/**
 * The only module that calls ELBv2 (Elastic Load Balancing, API 2015-12-01): the target groups this
 * instance serves in, their targets' health, and (de)registration. Same Query transport as EC2
 * (ec2-transport.ts), so signing, retries, dry-run writes and typed errors are the same.
 */
import { child, createQueryApi, text, type Ec2Options, type Xml, type XmlValue } from './ec2-transport'

export const ELBV2_API_VERSION = '2015-12-01'

export interface Elbv2 {
  /** A Describe*: the `<ActionResult>` element of the answer. */
  read(action: string, params?: Record<string, string | number | undefined>): Promise<Xml>
  /** A change; in dry-run logged and refused (Ec2Error kind 'dry_run'). */
  write(action: string, params?: Record<string, string | number | undefined>): Promise<Xml>
}

/** `endpoint`: AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2, null for AWS's own. */
export function createElbv2(options: Ec2Options): Elbv2 {
  const api = createQueryApi(options, {
    label: 'ELBv2',
    service: 'elasticloadbalancing',
    version: ELBV2_API_VERSION,
    url: options.endpoint ?? `https://elasticloadbalancing.${options.region}.amazonaws.com/`,
  })
  return {
    read: async (action, params = {}) => child(await api.read(action, params), `${action}Result`),
    write: async (action, params = {}) => child(await api.write(action, params), `${action}Result`),
  }
}

export interface TargetGroupFacts {
  arn: string
  name: string
  vpcId: string | null
  targetType: string
  port: number | null
}

/** A registration of an instance: the group and the port it serves on. */
export interface Membership {
  targetGroupArn: string
  port: number
}

/** Health state of a target: `initial`, `healthy`, `unhealthy`, `draining`, `unused`, `unavailable`. */
export interface TargetState {
  id: string
  port: number
  state: string
}

/** Every target group of the region (paged). */
export async function describeTargetGroups(elbv2: Elbv2): Promise<TargetGroupFacts[]> {
  const out: TargetGroupFacts[] = []
  let marker: string | null = null
  do {
    const result: Xml = await elbv2.read('DescribeTargetGroups', {
      PageSize: 400,
      Marker: marker ?? undefined,
    })
    for (const g of members(result.TargetGroups)) {
      const port = text(g, 'Port')
      out.push({
        arn: text(g, 'TargetGroupArn') ?? '',
        name: text(g, 'TargetGroupName') ?? '',
        vpcId: text(g, 'VpcId'),
        targetType: text(g, 'TargetType') ?? 'instance',
        port: port === null ? null : Number(port),
      })
    }
    marker = text(result, 'NextMarker')
  } while (marker)
  return out
}

/** The registered targets of a group with their state (`targets`: only those, `unused` when not registered). */
export async function describeTargetHealth(
  elbv2: Elbv2,
  targetGroupArn: string,
  targets: Array<{ id: string; port?: number }> = [],
): Promise<TargetState[]> {
  const result = await elbv2.read('DescribeTargetHealth', {
    TargetGroupArn: targetGroupArn,
    ...targetParams(targets),
  })
  return members(result.TargetHealthDescriptions).map((d) => ({
    id: text(child(d, 'Target'), 'Id') ?? '',
    port: Number(text(child(d, 'Target'), 'Port') ?? 0),
    state: text(child(d, 'TargetHealth'), 'State') ?? 'unknown',
  }))
}

export async function registerTargets(
  elbv2: Elbv2,
  targetGroupArn: string,
  targets: Array<{ id: string; port: number }>,
): Promise<void> {
  await elbv2.write('RegisterTargets', { TargetGroupArn: targetGroupArn, ...targetParams(targets) })
}

export async function deregisterTargets(
  elbv2: Elbv2,
  targetGroupArn: string,
  targets: Array<{ id: string; port: number }>,
): Promise<void> {
  await elbv2.write('DeregisterTargets', { TargetGroupArn: targetGroupArn, ...targetParams(targets) })
}

function targetParams(
  targets: Array<{ id: string; port?: number }>,
): Record<string, string | number | undefined> {
  const params: Record<string, string | number | undefined> = {}
  targets.forEach((t, i) => {
    params[`Targets.member.${i + 1}.Id`] = t.id
    params[`Targets.member.${i + 1}.Port`] = t.port
  })
  return params
}

/** The `member`s of a list element, [] when empty or absent. */
function members(value: XmlValue): Xml[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return []
  const list = value.member
  return Array.isArray(list) ? list.filter((x): x is Xml => typeof x === 'object' && !Array.isArray(x)) : []
}
