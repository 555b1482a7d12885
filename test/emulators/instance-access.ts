/**
 * What an emulated installed agent reads and does on its instance, as the real one does it: IMDSv2
 * (identity, the instance role's credentials, the spot and rebalance notices) and EC2's signed Query
 * API (through AWS's own SDK client, with the role's credentials) and the Price List. Only the calls
 * the installed 4.0.0 agent makes: launch, describe, terminate, spot prices, the on-demand price.
 */
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSpotPriceHistoryCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type Tag,
} from '@aws-sdk/client-ec2'
import { AwsClient } from 'aws4fetch'

/** What IMDS says about the instance (as 4.0.0 reads it at start). */
export interface InstanceIdentity {
  instanceId: string
  instanceType: string
  az: string
  region: string
  /** The AMI the instance was launched from: 4.0.0 launches its switches and replicas from it. */
  amiId: string
  mode: 'spot' | 'ondemand'
  privateIp: string | null
  publicIp: string | null
  subnetId: string | null
  securityGroupIds: string[]
}

interface PriceTerm {
  priceDimensions?: Record<string, { pricePerUnit?: { USD?: string } }>
}

/** IMDS answers in milliseconds; the installed agent gives it a few seconds. */
const IMDS_TIMEOUT_MS = 5_000

export interface LaunchOrder {
  instanceType: string
  az: string
  mode: 'spot' | 'ondemand'
  /** Tags added to the source instance's own. */
  tags?: Record<string, string>
}

/** Where the instance finds IMDS and AWS, and its time. */
export interface InstanceEndpoints {
  imdsUrl: string
  ec2Url: string
  /** The Price List endpoint (needed for `onDemandPrice` only). */
  pricingUrl?: string
  /** The instance's time (the simulated region's), epoch ms. */
  now?: () => number
  /** Aborted when the process is killed: every call under way ends at once. */
  signal?: AbortSignal
}

export class InstanceAccess {
  readonly imdsUrl: string
  private token: string | null = null
  private readonly ec2: EC2Client
  private readonly now: () => number
  private readonly signal: AbortSignal | undefined

  constructor(
    private readonly endpoints: InstanceEndpoints,
    private readonly region: string,
  ) {
    this.imdsUrl = endpoints.imdsUrl
    this.now = endpoints.now ?? Date.now
    this.signal = endpoints.signal
    this.ec2 = new EC2Client({
      endpoint: endpoints.ec2Url,
      region,
      maxAttempts: 1,
      // botocore's own timeouts: a call never waits for ever.
      requestHandler: { connectionTimeout: 60_000, requestTimeout: 60_000 },
      credentials: () => this.credentials(),
    })
  }

  /** Reads the identity the way the installed agent does at start. */
  async identity(): Promise<InstanceIdentity> {
    const mac = await this.read('meta-data/mac')
    const net = `meta-data/network/interfaces/macs/${mac}`
    const az = (await this.read('meta-data/placement/availability-zone'))!
    return {
      instanceId: (await this.read('meta-data/instance-id'))!,
      instanceType: (await this.read('meta-data/instance-type'))!,
      az,
      region: (await this.read('meta-data/placement/region')) ?? az.slice(0, -1),
      amiId: (await this.read('meta-data/ami-id'))!,
      mode: (await this.read('meta-data/instance-life-cycle')) === 'spot' ? 'spot' : 'ondemand',
      privateIp: await this.read('meta-data/local-ipv4'),
      publicIp: await this.read('meta-data/public-ipv4'),
      subnetId: await this.read(`${net}/subnet-id`),
      securityGroupIds: ((await this.read(`${net}/security-group-ids`)) ?? '').split('\n').filter(Boolean),
    }
  }

  /** `spot/instance-action` (null: no notice). */
  async instanceAction(): Promise<{ action: string; time: string } | null> {
    const text = await this.read('meta-data/spot/instance-action')
    return text ? (JSON.parse(text) as { action: string; time: string }) : null
  }

  /** `events/recommendations/rebalance` (null: none). */
  async rebalance(): Promise<string | null> {
    const text = await this.read('meta-data/events/recommendations/rebalance')
    return text ? (JSON.parse(text) as { noticeTime: string }).noticeTime : null
  }

  /**
   * RunInstances from `self`'s ORIGINAL launch AMI, with what 4.0.0 copies from its own instance: the
   * instance profile (without it the launched instance has no credentials and its agent can never call
   * EC2), key pair, user data and tags (`order.tags` added). The subnet and its security groups only in
   * the same AZ: across AZs 4.0.0 copies no subnet and EC2 places the instance in the zone's default
   * subnet, where the source's groups (another VPC's) would be refused, so its default group applies.
   */
  async launch(self: InstanceIdentity, order: LaunchOrder): Promise<string> {
    const source = await this.describe(self.instanceId)
    if (!source) throw new Error(`DescribeInstances does not know ${self.instanceId}`)
    const userData = (
      await this.ec2.send(
        new DescribeInstanceAttributeCommand({ InstanceId: self.instanceId, Attribute: 'userData' }),
        { abortSignal: this.signal },
      )
    ).UserData?.Value
    const tags = {
      ...Object.fromEntries(
        (source.Tags ?? []).flatMap((t: Tag) =>
          t.Key && !t.Key.startsWith('aws:') ? [[t.Key, t.Value ?? '']] : [],
        ),
      ),
      ...order.tags,
    }
    const sameAz = order.az === self.az
    const answer = await this.ec2.send(
      new RunInstancesCommand({
        ImageId: self.amiId,
        InstanceType: order.instanceType as never,
        MinCount: 1,
        MaxCount: 1,
        ...(sameAz && self.subnetId
          ? { SubnetId: self.subnetId, SecurityGroupIds: self.securityGroupIds }
          : { Placement: { AvailabilityZone: order.az } }),
        ...(source.IamInstanceProfile?.Arn
          ? { IamInstanceProfile: { Arn: source.IamInstanceProfile.Arn } }
          : {}),
        ...(source.KeyName ? { KeyName: source.KeyName } : {}),
        ...(userData ? { UserData: userData } : {}),
        ...(order.mode === 'spot' ? { InstanceMarketOptions: { MarketType: 'spot' } } : {}),
        TagSpecifications: [
          { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
        ],
      }),
      { abortSignal: this.signal },
    )
    const id = answer.Instances?.[0]?.InstanceId
    if (!id) throw new Error('RunInstances answered no instance')
    return id
  }

  /** The instance's state name, or null when EC2 does not know it. */
  async stateOf(instanceId: string): Promise<string | null> {
    return (await this.describe(instanceId))?.State?.Name ?? null
  }

  async terminate(instanceId: string): Promise<void> {
    await this.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }), {
      abortSignal: this.signal,
    })
  }

  /** The latest spot price of each AZ for the type. */
  async spotPrices(instanceType: string): Promise<Record<string, number>> {
    const answer = await this.ec2.send(
      new DescribeSpotPriceHistoryCommand({
        InstanceTypes: [instanceType as never],
        ProductDescriptions: ['Linux/UNIX'],
        StartTime: new Date(this.now() - 3_600_000),
      }),
      { abortSignal: this.signal },
    )
    const latest: Record<string, { at: number; price: number }> = {}
    for (const row of answer.SpotPriceHistory ?? []) {
      const az = row.AvailabilityZone
      const at = row.Timestamp?.getTime() ?? 0
      if (az && row.SpotPrice && (latest[az]?.at ?? -1) < at)
        latest[az] = { at, price: Number(row.SpotPrice) }
    }
    return Object.fromEntries(Object.entries(latest).map(([az, v]) => [az, v.price]))
  }

  /** The type's Linux on-demand price in the instance's region (Price List GetProducts); null when none. */
  async onDemandPrice(instanceType: string): Promise<number | null> {
    if (!this.endpoints.pricingUrl) throw new Error('no Price List endpoint')
    const c = await this.credentials()
    const aws = new AwsClient({
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken,
      service: 'pricing',
      region: 'us-east-1',
      retries: 0,
    })
    const term = (Field: string, Value: string) => ({ Type: 'TERM_MATCH', Field, Value })
    const response = await aws.fetch(this.endpoints.pricingUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'AWSPriceListService.GetProducts',
      },
      body: JSON.stringify({
        ServiceCode: 'AmazonEC2',
        Filters: [
          term('regionCode', this.region),
          term('instanceType', instanceType),
          term('operatingSystem', 'Linux'),
          term('tenancy', 'Shared'),
          term('preInstalledSw', 'NA'),
          term('capacitystatus', 'Used'),
        ],
        MaxResults: 10,
      }),
      signal: this.signal,
    })
    if (!response.ok) throw new Error(`GetProducts answered ${response.status}`)
    const { PriceList = [] } = (await response.json()) as { PriceList?: string[] }
    for (const product of PriceList) {
      const terms = (JSON.parse(product) as { terms?: { OnDemand?: Record<string, PriceTerm> } }).terms
      for (const term of Object.values(terms?.OnDemand ?? {}))
        for (const dimension of Object.values(term.priceDimensions ?? {})) {
          const usd = Number(dimension.pricePerUnit?.USD)
          if (usd > 0) return usd
        }
    }
    return null
  }

  close(): void {
    this.ec2.destroy()
  }

  private async describe(instanceId: string) {
    const answer = await this.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }), {
      abortSignal: this.signal,
    })
    return answer.Reservations?.[0]?.Instances?.[0] ?? null
  }

  private async credentials() {
    const role = (await this.read('meta-data/iam/security-credentials/'))?.split('\n')[0]
    if (!role) throw new Error('the instance has no role')
    const c = JSON.parse((await this.read(`meta-data/iam/security-credentials/${role}`))!) as {
      AccessKeyId: string
      SecretAccessKey: string
      Token: string
      Expiration: string
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.Token,
      expiration: new Date(c.Expiration),
    }
  }

  /** One IMDSv2 read under `/latest/`; null for 404 (nothing there). A token that expired is renewed. */
  private async read(path: string): Promise<string | null> {
    for (let attempt = 0; ; attempt++) {
      this.token ??= (
        await this.imds('api/token', {
          method: 'PUT',
          headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '21600' },
        })
      ).text
      const res = await this.imds(path, { headers: { 'X-aws-ec2-metadata-token': this.token } })
      if (res.status === 401 && attempt === 0) {
        this.token = null
        continue
      }
      if (res.status === 404) return null
      if (res.status < 200 || res.status > 299) throw new Error(`IMDS ${path}: ${res.status}`)
      return res.text
    }
  }

  /**
   * One IMDS request, body included, ended by its timeout or by the agent's kill (`signal`): the
   * credentials of every EC2 call come from here, and the SDK's abortSignal does not end a credential
   * read under way, so a read that ignored the kill held stop() (the e2e afterAll 'Hook timed out').
   * A timer of its own: Node 20 may collect an AbortSignal.timeout before it fires (installed-agent.ts `call`).
   */
  private async imds(path: string, init: RequestInit): Promise<{ status: number; text: string }> {
    const timeout = new AbortController()
    const timer = setTimeout(() => timeout.abort(), IMDS_TIMEOUT_MS)
    const signal = this.signal ? AbortSignal.any([timeout.signal, this.signal]) : timeout.signal
    try {
      const res = await fetch(`${this.imdsUrl}/latest/${path}`, { ...init, signal })
      return { status: res.status, text: await res.text() }
    } finally {
      clearTimeout(timer)
    }
  }
}
