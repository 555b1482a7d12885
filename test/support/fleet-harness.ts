/**
 * One e2e world: wrangler dev (own ports and state), a client created through the admin API, and the
 * simulated fleet (region from the fakes, real agent processes) with fast EC2 transitions and no
 * random signals, so each test injects exactly the events it asserts on.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFleet, type Fleet, type FleetOptions } from '../../scripts/fleet/fleet'
import { OperatorApi } from './api'
import { createClient, type CreatedClient } from './clients'
import { startTestWorker, type TestWorker } from './worker'
import { slowStep } from './slow-step'

export interface E2eWorld {
  worker: TestWorker
  client: CreatedClient
  fleet: Fleet
  api: OperatorApi
  stop(): Promise<void>
}

/** Simulated EC2 transitions short enough for a test, long enough to observe each state. */
export const FAST_EC2 = { pendingMs: 500, statusOkMs: 1_500, shuttingDownMs: 500, imageMs: 1_500 }

export async function startE2eWorld(
  options: Partial<
    Pick<
      FleetOptions,
      | 'agents'
      | 'lifecycle'
      | 'agentEnv'
      | 'install'
      | 'launchers'
      | 'workloadTags'
      | 'instanceType'
      | 'speed'
    >
  > = {},
): Promise<E2eWorld> {
  // One simulated clock for the Worker, the region and the agents (real time at speed 1).
  const speed = options.speed ?? 1
  const origin = Date.now()
  const worker = await startTestWorker(speed === 1 ? {} : { SIM_CLOCK: `${origin}x${speed}` })
  const stateDir = await mkdtemp(join(tmpdir(), 'spotguard-fleet-'))
  try {
    const client = await createClient(worker.url, worker.adminToken, 'e2e')
    const fleet = await startFleet({
      serverUrl: worker.url,
      token: client.token,
      agents: options.agents ?? 1,
      speed,
      origin,
      stateDir,
      scheduled: null,
      signals: false,
      durations: FAST_EC2,
      lifecycle: options.lifecycle,
      install: options.install,
      launchers: options.launchers,
      workloadTags: options.workloadTags,
      instanceType: options.instanceType,
      agentEnv: { PENDING_COMMANDS_CHECK_INTERVAL: '5', REPLICA_POLL_INTERVAL: '2', ...options.agentEnv },
    })
    // The market's capacity crunches fall on hours of the simulated clock, which starts at the real now:
    // left in, a test would fail only at some hours of the day (fleet.test.ts's emergency launch met one
    // at 11:00 UTC). Every pool has capacity unless a test takes it away (setSpotCapacityModel, setCapacity,
    // failWhen: fleet-capacity and fleet-faults do).
    fleet.region.ec2.setSpotCapacityModel(undefined)
    return {
      worker,
      client,
      fleet,
      api: new OperatorApi(worker.url, worker.adminToken),
      async stop() {
        await slowStep('the fleet to stop', () => fleet.stop())
        await slowStep('the Worker to stop', () => worker.stop())
        if (!process.env.SPOTGUARD_KEEP_STATE) await rm(stateDir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await worker.stop()
    throw error
  }
}
