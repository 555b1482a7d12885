/**
 * One customer instance simulated for the agent: fake EC2 + Price List + IMDS (test/fakes) on real
 * time with short transitions, so the agent process (which runs on real time) needs no driving.
 */
import { randomInt } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { imdsFor, seedWorkload, startFakeEc2, startFakePricing, systemClock, type Clock, type FakeEc2, type FakeImds, type FakePricing, type SeededWorkload } from '../../fakes'

export interface Simulation {
  ec2: FakeEc2
  pricing: FakePricing
  imds: FakeImds
  workload: SeededWorkload
  stateDir: string
  /** The agent's environment for this simulation, pointed at `serverUrl` with `token`. */
  agentEnv(serverUrl: string, token: string, extra?: Record<string, string>): Record<string, string>
  close(): Promise<void>
}

/** `clock`: a simulated one (scaledClock) when the agent and the control plane run on it too. */
export async function startSimulation(options: { lifecycle?: 'spot' | 'on-demand'; clock?: Clock } = {}): Promise<Simulation> {
  const clock = options.clock ?? systemClock
  const ec2 = await startFakeEc2({
    clock,
    durations: { pendingMs: 300, statusOkMs: 300, shuttingDownMs: 300, imageMs: 500 },
  })
  const pricing = await startFakePricing({ clock })
  // Ids unique across simulations: several clients of one control plane must not share an instance id.
  const salt = randomInt(1, 0xffffff) * 0x1000000
  let counter = 0
  ec2.state.nextId = (prefix, width = 17) => `${prefix}-${(salt + ++counter).toString(16).padStart(width, '0')}`
  const workload = seedWorkload(ec2, { lifecycle: options.lifecycle ?? 'spot' })
  for (const [i, az] of ['us-east-1a', 'us-east-1b', 'us-east-1c'].entries()) ec2.setSpotPrice('t3.medium', az, 0.0125 + i * 0.001)
  const imds = await imdsFor(ec2, workload.instanceId, { pricing })
  const stateDir = await mkdtemp(join(tmpdir(), 'spotguard-agent-state-'))
  return {
    ec2,
    pricing,
    imds,
    workload,
    stateDir,
    agentEnv(serverUrl, token, extra = {}) {
      return {
        SPOT_OPTIMIZER_SERVER_URL: serverUrl,
        SPOT_OPTIMIZER_CLIENT_TOKEN: token,
        LOGICAL_AGENT_ID: 'agent-web-1',
        AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
        AWS_ENDPOINT_URL_EC2: ec2.url,
        AWS_ENDPOINT_URL_PRICING: pricing.url,
        SPOTGUARD_STATE_DIR: stateDir,
        ...extra,
      }
    },
    async close() {
      await Promise.all([imds.close(), pricing.close(), ec2.close()])
      await rm(stateDir, { recursive: true, force: true })
    },
  }
}
