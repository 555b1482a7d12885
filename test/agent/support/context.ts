/** An ActionContext wired to the fake EC2 (real HTTP, real signing) and a recording control plane. */
import type { ActionContext } from '../../../agent/src/actions/context'
import type { Clock } from '../../../agent/src/clock'
import { loadConfig } from '../../../agent/src/config'
import { createEc2 } from '../../../agent/src/ec2-transport'
import { createElbv2 } from '../../../agent/src/elbv2'
import type { Host } from '../../../agent/src/host'
import type { Identity } from '../../../agent/src/imds'
import { Link } from '../../../agent/src/link'
import { memoryLog } from '../../../agent/src/log'
import { memoryState, type State } from '../../../agent/src/state'
import type { AgentConfig } from '../../../src/protocol'
import { TEST_CREDENTIALS, type FakeEc2, type FakeElbv2, type SeededWorkload } from '../../fakes'
import { recordingHttp } from './http'

export function actionContext(
  ec2Fake: FakeEc2,
  workload: SeededWorkload,
  clock: Clock,
  options: {
    state?: State
    dryRun?: boolean
    http?: ReturnType<typeof recordingHttp>
    signal?: AbortSignal
    host?: Host
    /** The fake ELBv2 the drain talks to (absent: none answers). */
    elbv2?: FakeElbv2
    agentConfig?: AgentConfig
    /** More agent environment (SPOTGUARD_HOOKS_DIR...). */
    env?: Record<string, string>
  } = {},
) {
  const log = memoryLog()
  const state = options.state ?? memoryState(clock.now)
  const http = options.http ?? recordingHttp()
  const signal = options.signal ?? new AbortController().signal
  const config = loadConfig({
    SPOT_OPTIMIZER_SERVER_URL: 'http://control.test',
    SPOT_OPTIMIZER_CLIENT_TOKEN: 'tok-123456789',
    ...options.env,
  })
  const link = new Link({ http, state, clock, log, serverUrl: config.serverUrl, token: config.token, signal })
  link.agentId = 'agent-1'
  const credentials = { get: async () => ({ ...TEST_CREDENTIALS, expiresAt: null }) }
  const ec2 = createEc2({ region: 'us-east-1', endpoint: ec2Fake.url, credentials, clock, log, dryRun: options.dryRun ?? false })
  const elbv2 = createElbv2({
    region: 'us-east-1',
    endpoint: options.elbv2?.url ?? 'http://127.0.0.1:1',
    credentials,
    clock,
    log,
    dryRun: options.dryRun ?? false,
  })
  const facts = ec2Fake.instance(workload.instanceId)!
  const self: Identity = {
    instanceId: workload.instanceId,
    instanceType: facts.instanceType,
    region: 'us-east-1',
    az: facts.az,
    amiId: facts.imageId,
    privateIp: facts.privateIp ?? null,
    publicIp: workload.publicIp ?? null,
    hostname: null,
    mode: facts.lifecycle === 'spot' ? 'spot' : 'ondemand',
  }
  const retired: string[] = []
  // Nothing in a test may touch this machine: a host that refuses unless the test gives its own.
  const host: Host = options.host ?? {
    installed: false,
    run: async (program) => Promise.reject(new Error(`no host in tests: ${program}`)),
    execute: async (program) => Promise.reject(new Error(`no host in tests: ${program}`)),
    // No hooks installed on a test host.
    probe: async () => 'absent',
    remove: async (path) => Promise.reject(new Error(`no host in tests: ${path}`)),
  }
  const ctx: ActionContext = {
    ec2,
    elbv2,
    host,
    link,
    clock,
    log,
    state,
    config,
    self,
    logicalAgentId: 'agent-web-1',
    agentConfig: () => options.agentConfig ?? null,
    replicasUnderway: new Set(),
    replacementTags: { of: null },
    retire: (reason) => void retired.push(reason),
    signal,
  }
  return { ctx, http, log, state, retired }
}
