/** The IMDS tree: every path the agent reads, as a flat map of `/latest/`-relative paths to bodies. */
import { isoSeconds } from '../clock'
import { signIdentityDocument } from './identity-signing'

/** The signed document (`.../signature` is its RSA signature; `pkcs7`, DSA, is not served). */
const IDENTITY_DOCUMENT = 'dynamic/instance-identity/document'

/** What IMDS knows about its instance (a live view when linked to the fake EC2). */
export interface ImdsInstance {
  instanceId: string
  instanceType: string
  imageId: string
  az: string
  region: string
  accountId: string
  privateIp: string
  publicIp?: string
  mac: string
  vpcId: string
  subnetId: string
  securityGroupIds: string[]
  lifecycle: 'spot' | 'on-demand'
  profile?: { arn: string; id: string }
  /** Epoch ms */
  launchTime: number
  /** The instance's tags when instance metadata tags are enabled; undefined: not served (404) */
  tags?: Record<string, string>
}

/** Where IMDS lists the instance's tags (`meta-data/tags/instance/<key>` is one tag's value). */
export const TAGS_DIR = 'meta-data/tags/instance/'

export interface RoleCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
  /** Epoch ms */
  issuedAt: number
  /** Epoch ms */
  expiresAt: number
}

/** Notices injected by the test; absent ones are 404 (scheduled events: `[]`). */
export interface Notices {
  instanceAction?: { action: string; time: number }
  rebalance?: { noticeTime: number }
  scheduled: ScheduledEvent[]
}

export interface ScheduledEvent {
  Code: string
  Description?: string
  EventId?: string
  /** Epoch ms or IMDS's own text */
  NotBefore: number | string
  NotAfter?: number | string
  State?: 'active' | 'completed' | 'canceled'
}

/** IMDS prints event times as `21 Jan 2019 09:00:43 GMT`. */
function eventTime(value: number | string | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value
  const d = new Date(value).toUTCString() // "Mon, 21 Jan 2019 09:00:43 GMT"
  return d.slice(5).replace(/^0/, '')
}

export function metadataTree(
  i: ImdsInstance,
  role: string | undefined,
  creds: RoleCredentials | undefined,
  notices: Notices,
): Map<string, string> {
  const md = (path: string) => `meta-data/${path}`
  const mac = `meta-data/network/interfaces/macs/${i.mac}`
  const tree = new Map<string, string>([
    [md('ami-id'), i.imageId],
    [md('instance-id'), i.instanceId],
    [md('instance-type'), i.instanceType],
    [md('instance-life-cycle'), i.lifecycle],
    [md('local-ipv4'), i.privateIp],
    [md('hostname'), `ip-${i.privateIp.replace(/\./g, '-')}.ec2.internal`],
    [md('local-hostname'), `ip-${i.privateIp.replace(/\./g, '-')}.ec2.internal`],
    [md('mac'), i.mac],
    [md('placement/availability-zone'), i.az],
    [md('placement/region'), i.region],
    [`${mac}/vpc-id`, i.vpcId],
    [`${mac}/subnet-id`, i.subnetId],
    [`${mac}/security-group-ids`, i.securityGroupIds.join('\n')],
    [`${mac}/local-ipv4s`, i.privateIp],
    [
      md('events/maintenance/scheduled'),
      JSON.stringify(
        notices.scheduled.map((e) => ({
          ...e,
          NotBefore: eventTime(e.NotBefore),
          NotAfter: eventTime(e.NotAfter),
          State: e.State ?? 'active',
          EventId: e.EventId ?? 'instance-event-0fake',
        })),
      ),
    ],
    [
      IDENTITY_DOCUMENT,
      JSON.stringify(
        {
          accountId: i.accountId,
          architecture: 'x86_64',
          availabilityZone: i.az,
          billingProducts: null,
          devpayProductCodes: null,
          marketplaceProductCodes: null,
          imageId: i.imageId,
          instanceId: i.instanceId,
          instanceType: i.instanceType,
          kernelId: null,
          pendingTime: isoSeconds(i.launchTime),
          privateIp: i.privateIp,
          ramdiskId: null,
          region: i.region,
          version: '2017-09-30',
        },
        null,
        2,
      ),
    ],
  ])
  tree.set('dynamic/instance-identity/signature', signIdentityDocument(tree.get(IDENTITY_DOCUMENT)!))
  for (const [key, value] of Object.entries(i.tags ?? {})) tree.set(`${TAGS_DIR}${key}`, value)
  if (i.publicIp) {
    tree.set(md('public-ipv4'), i.publicIp)
    tree.set(`${mac}/public-ipv4s`, i.publicIp)
  }
  if (i.profile && role && creds) {
    tree.set(
      md('iam/info'),
      JSON.stringify(
        {
          Code: 'Success',
          LastUpdated: isoSeconds(creds.issuedAt),
          InstanceProfileArn: i.profile.arn,
          InstanceProfileId: i.profile.id,
        },
        null,
        2,
      ),
    )
    tree.set(
      md(`iam/security-credentials/${role}`),
      JSON.stringify(
        {
          Code: 'Success',
          LastUpdated: isoSeconds(creds.issuedAt),
          Type: 'AWS-HMAC',
          AccessKeyId: creds.accessKeyId,
          SecretAccessKey: creds.secretAccessKey,
          Token: creds.sessionToken,
          Expiration: isoSeconds(creds.expiresAt),
        },
        null,
        2,
      ),
    )
  }
  if (notices.instanceAction) {
    tree.set(
      md('spot/instance-action'),
      JSON.stringify({
        action: notices.instanceAction.action,
        time: isoSeconds(notices.instanceAction.time),
      }),
    )
    tree.set(md('spot/termination-time'), isoSeconds(notices.instanceAction.time))
  }
  if (notices.rebalance) {
    tree.set(
      md('events/recommendations/rebalance'),
      JSON.stringify({ noticeTime: isoSeconds(notices.rebalance.noticeTime) }),
    )
  }
  return tree
}

/** A directory listing (`meta-data/`, `iam/security-credentials/`…) from the flat tree, as IMDS prints it. */
export function listing(tree: Map<string, string>, dir: string): string | undefined {
  const entries = new Set<string>()
  for (const path of tree.keys()) {
    if (!path.startsWith(dir)) continue
    const rest = path.slice(dir.length)
    const slash = rest.indexOf('/')
    entries.add(slash === -1 ? rest : rest.slice(0, slash + 1))
  }
  return entries.size === 0 ? undefined : [...entries].join('\n')
}
