/** The fake EC2 server: SigV4 check, failure injection, dispatch to the action handlers, request log. */
import { randomUUID } from 'node:crypto'
import { systemClock, type Clock } from '../clock'
import { header, serve, type FakeRequest, type FakeResponse } from '../http'
import { TEST_CREDENTIALS, verifySigV4, type AwsCredentials } from '../sigv4'
import type { ActionHandler } from './action'
import { Ec2Error, defaultMessage, statusOf } from './errors'
import {
  createImage,
  deleteSnapshot,
  deregisterImage,
  describeImages,
  describeSnapshots,
} from './actions/images'
import {
  describeInstanceAttribute,
  describeInstanceStatus,
  describeInstances,
  terminateInstances,
} from './actions/instances'
import { runInstances } from './actions/launch'
import { createTags, describeTags } from './actions/tags'
import {
  associateAddress,
  describeAddresses,
  describeAvailabilityZones,
  describeSubnets,
} from './actions/network'
import { describeSpotPriceHistory } from './actions/spot'
import { describeInstanceTypes } from './actions/instance-types'
import { getSpotPlacementScores } from './actions/placement-scores'
import {
  attachVolume,
  createVolume,
  deleteVolume,
  describeVolumes,
  detachVolume,
  modifyInstanceAttribute,
} from './actions/volumes'
import { createSnapshot } from './actions/snapshots'
import {
  attachNetworkInterface,
  createNetworkInterface,
  deleteNetworkInterface,
  describeNetworkInterfaces,
  detachNetworkInterface,
  modifyNetworkInterfaceAttribute,
} from './actions/interfaces'
import {
  snapshotContent,
  volumeContent,
  workloadWrite,
  writeWorkloads,
  type WorkloadTickOptions,
} from './content'
import { poolKey } from './capacity'
import { advance, beginTermination, settle, tick } from './lifecycle'
import {
  DEFAULT_DURATIONS,
  createState,
  type Durations,
  type Ec2State,
  type Instance,
  type VolumeRecord,
} from './model'
import { LINUX, addSpotPrice } from './prices'
import { createInjector, type Injector } from './inject'
import { createSeeder, type Seeder } from './seed'
import type { Disks } from './disks'
import { isDryRun, validateDryRun } from './dry-run'
import { actionResponse, errorResponse } from './xml'

export const EC2_API_VERSION = '2016-11-15'

const ACTIONS: Record<string, ActionHandler> = {
  DescribeInstances: describeInstances,
  DescribeInstanceStatus: describeInstanceStatus,
  DescribeInstanceAttribute: describeInstanceAttribute,
  RunInstances: runInstances,
  TerminateInstances: terminateInstances,
  CreateImage: createImage,
  DescribeImages: describeImages,
  DeregisterImage: deregisterImage,
  DescribeSnapshots: describeSnapshots,
  DeleteSnapshot: deleteSnapshot,
  CreateTags: createTags,
  DescribeTags: describeTags,
  DescribeSubnets: describeSubnets,
  DescribeAddresses: describeAddresses,
  AssociateAddress: associateAddress,
  DescribeSpotPriceHistory: describeSpotPriceHistory,
  DescribeAvailabilityZones: describeAvailabilityZones,
  DescribeInstanceTypes: describeInstanceTypes,
  GetSpotPlacementScores: getSpotPlacementScores,
  CreateVolume: createVolume,
  DescribeVolumes: describeVolumes,
  AttachVolume: attachVolume,
  DetachVolume: detachVolume,
  DeleteVolume: deleteVolume,
  ModifyInstanceAttribute: modifyInstanceAttribute,
  CreateSnapshot: createSnapshot,
  CreateNetworkInterface: createNetworkInterface,
  DescribeNetworkInterfaces: describeNetworkInterfaces,
  AttachNetworkInterface: attachNetworkInterface,
  DetachNetworkInterface: detachNetworkInterface,
  DeleteNetworkInterface: deleteNetworkInterface,
  ModifyNetworkInterfaceAttribute: modifyNetworkInterfaceAttribute,
}

export interface FakeEc2Options {
  region?: string
  accountId?: string
  /** Zone suffixes (`['a', 'b']`) or full names */
  zones?: string[]
  credentials?: AwsCredentials[]
  clock?: Clock
  durations?: Partial<Durations>
  /** Root volumes as directories: images and instances carry files (see disks.ts) */
  disks?: Disks
  port?: number
}

export interface Ec2RequestLogEntry {
  action: string
  /** Epoch ms by the fake's clock */
  at: number
  status: number
  code?: string
  accessKeyId?: string
  params: Record<string, string>
}

export interface FakeEc2 extends Omit<Injector, 'failureFor' | 'isDenied'> {
  url: string
  state: Ec2State
  seed: Seeder
  requests: Ec2RequestLogEntry[]
  instance(instanceId: string): Instance | undefined
  tick(): void
  advance(id?: string): boolean
  settle(): void
  terminate(instanceId: string): void
  scheduleTermination(instanceId: string, atMs: number): void
  setSpotPrice(instanceType: string, az: string, price: number, atMs?: number): void
  setSpotPriceModel(
    model: ((instanceType: string, az: string, atMs: number) => number | undefined) | undefined,
  ): void
  /** Whether a spot pool has capacity at a moment (absent: always); a spot launch without fails. */
  setSpotCapacityModel(model: ((instanceType: string, az: string, atMs: number) => boolean) | undefined): void
  /** Spot instances the pool can still launch (capacity.ts); undefined: plenty again */
  setCapacity(instanceType: string, az: string, spare: number | undefined): void
  addCredentials(credentials: AwsCredentials): void
  onLaunch(listener: (instance: Instance) => void): void
  /** A simulated workload's write on the volume attached at `device` of a running instance (content.ts); throws when none */
  workloadWrite(instanceId: string, device: string, data: string): VolumeRecord
  /** What a volume holds, oldest first: the ground truth */
  volumeContent(volumeId: string): VolumeRecord[]
  /** What a snapshot froze at its creation */
  snapshotContent(snapshotId: string): VolumeRecord[]
  /** One simulated minute of the stateful workloads: a record on each attached data volume of the running instances chosen */
  writeWorkloads(opts?: WorkloadTickOptions): Array<VolumeRecord & { volumeId: string; device: string }>
  count(action?: string): number
  counts(): Record<string, number>
  clearLog(): void
  close(): Promise<void>
}

export async function startFakeEc2(options: FakeEc2Options = {}): Promise<FakeEc2> {
  const region = options.region ?? 'us-east-1'
  const state = createState({
    region,
    accountId: options.accountId ?? '123456789012',
    zones: (options.zones ?? ['a', 'b', 'c']).map((z) => (z.length === 1 ? `${region}${z}` : z)),
    clock: options.clock ?? systemClock,
    durations: { ...DEFAULT_DURATIONS, ...options.durations },
    disks: options.disks,
  })
  const credentials = new Map((options.credentials ?? [TEST_CREDENTIALS]).map((c) => [c.accessKeyId, c]))
  const requests: Ec2RequestLogEntry[] = []
  const inject = createInjector()

  async function handle(req: FakeRequest): Promise<FakeResponse> {
    tick(state)
    const requestId = randomUUID()
    const params = new URLSearchParams(req.body)
    for (const [key, value] of req.query) params.append(key, value)
    const action = params.get('Action') ?? ''
    const entry: Ec2RequestLogEntry = {
      action,
      at: state.clock.now(),
      status: 200,
      params: Object.fromEntries(params),
    }
    requests.push(entry)
    const fail = (code: string, message: string): FakeResponse => {
      entry.status = statusOf(code)
      entry.code = code
      return {
        status: entry.status,
        headers: { 'content-type': 'text/xml;charset=UTF-8' },
        body: errorResponse(code, message, requestId),
      }
    }

    const auth = await verifySigV4(req, { region, service: 'ec2', lookup: (id) => credentials.get(id) })
    entry.accessKeyId = auth.accessKeyId
    if (!auth.ok) return fail(auth.kind === 'auth' ? 'AuthFailure' : 'SignatureDoesNotMatch', auth.message)
    if (req.method !== 'POST' && req.method !== 'GET')
      return fail('InvalidHttpRequest', `The HTTP method ${req.method} is not supported`)
    if (
      !(header(req.headers, 'content-type') ?? 'application/x-www-form-urlencoded').startsWith(
        'application/x-www-form-urlencoded',
      )
    ) {
      return fail('InvalidParameterValue', 'Content-Type must be application/x-www-form-urlencoded')
    }
    const handler = ACTIONS[action]
    if (!handler) return fail('InvalidAction', `The action ${action} is not valid for this web service.`)
    const version = params.get('Version')
    if (version !== EC2_API_VERSION)
      return fail('MissingParameter', `The request must contain the parameter Version (${EC2_API_VERSION})`)
    // A dry run checks permission, then validity; injected capacity or throttling is for real calls.
    const dryRun = isDryRun(params)
    const failure = dryRun
      ? inject.isDenied(action)
        ? { code: 'UnauthorizedOperation' }
        : undefined
      : inject.failureFor(action, params)
    if (failure) return fail(failure.code, failure.message ?? defaultMessage(failure.code))
    try {
      if (dryRun) {
        validateDryRun(handler, state, params)
        return fail('DryRunOperation', defaultMessage('DryRunOperation'))
      }
      const body = handler({ state, params })
      return {
        status: 200,
        headers: { 'content-type': 'text/xml;charset=UTF-8' },
        body: actionResponse(action, requestId, body),
      }
    } catch (err) {
      if (err instanceof Ec2Error) return fail(err.code, err.message)
      // A bug in the fake: answer as EC2 would, and keep the stack visible for whoever runs the tests.
      console.error(`fake EC2 ${action} failed:`, err)
      return fail('InternalError', defaultMessage('InternalError'))
    }
  }

  const server = await serve(handle, options.port)
  const count = (action?: string) =>
    requests.filter((r) => action === undefined || r.action === action).length
  return {
    url: server.url,
    state,
    seed: createSeeder(state),
    requests,
    instance: (id) => state.instances.get(id),
    tick: () => tick(state),
    advance: (id) => advance(state, id),
    settle: () => settle(state),
    terminate: (id) => {
      const instance = state.instances.get(id)
      if (!instance) throw new Error(`no instance ${id}`)
      beginTermination(state, instance)
    },
    scheduleTermination: (id, atMs) => {
      const instance = state.instances.get(id)
      if (!instance) throw new Error(`no instance ${id}`)
      instance.terminateAt = atMs
    },
    failNext: inject.failNext,
    failWhen: inject.failWhen,
    deny: inject.deny,
    allow: inject.allow,
    setSpotPrice: (instanceType, az, price, atMs) =>
      addSpotPrice(state, {
        instanceType,
        az,
        price,
        productDescription: LINUX,
        at: atMs ?? state.clock.now(),
      }),
    setSpotPriceModel: (model) => {
      state.spotPriceModel = model
    },
    setSpotCapacityModel: (model) => {
      state.spotCapacityModel = model
    },
    setCapacity: (instanceType, az, spare) => {
      if (spare === undefined) state.spareCapacity.delete(poolKey(instanceType, az))
      else state.spareCapacity.set(poolKey(instanceType, az), spare)
    },
    addCredentials: (c) => credentials.set(c.accessKeyId, c),
    onLaunch: (listener) => state.launchListeners.push(listener),
    workloadWrite: (instanceId, device, data) => {
      tick(state)
      return workloadWrite(state, instanceId, device, data)
    },
    volumeContent: (volumeId) => volumeContent(state, volumeId),
    snapshotContent: (snapshotId) => snapshotContent(state, snapshotId),
    writeWorkloads: (opts) => {
      tick(state)
      return writeWorkloads(state, opts)
    },
    count,
    counts: () => {
      const out: Record<string, number> = {}
      for (const r of requests) out[r.action] = (out[r.action] ?? 0) + 1
      return out
    },
    clearLog: () => {
      requests.length = 0
    },
    close: () => server.close(),
  }
}
