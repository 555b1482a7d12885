/** Small snapshots of EC2 and D1 for the checker's tests: one workload (agent-1) at a time, by default healthy. */
import type {
  D1Agent,
  D1Instance,
  D1Replica,
  D1Snapshot,
  Ec2Instance,
  Ec2Snapshot,
  SoakLog,
} from '../../scripts/soak/snapshot'

export const T0 = Date.parse('2026-12-01T00:00:00Z')
export const MINUTE = 60_000
export const HOUR = 60 * MINUTE
/** The moment of the check in these tests. */
export const NOW = T0 + 6 * HOUR
/** agent-1's Elastic IP. */
export const ELASTIC_IP = '3.200.0.1'

export function ec2Instance(instanceId: string, overrides: Partial<Ec2Instance> = {}): Ec2Instance {
  const launchTime = overrides.launchTime ?? T0
  return {
    instanceId,
    workload: 'agent-1',
    state: 'running',
    stateSince: launchTime + 30_000,
    launchTime,
    terminateAt: null,
    lifecycle: 'spot',
    az: 'us-east-1a',
    replicaTag: null,
    launchKey: null,
    reservationId: `r-${instanceId}`,
    runningPeriods: [[launchTime + 30_000, NOW]],
    holdsAddress: false,
    billed: 0,
    ...overrides,
  }
}

export function d1Agent(overrides: Partial<D1Agent> = {}): D1Agent {
  return {
    id: 'agt-1',
    logicalAgentId: 'agent-1',
    instanceId: 'i-1',
    status: 'online',
    agentVersion: '5.0.0',
    autoTerminateEnabled: true,
    terminateWaitSeconds: 300,
    createdAt: T0 + MINUTE,
    ...overrides,
  }
}

export function d1Instance(instanceId: string, overrides: Partial<D1Instance> = {}): D1Instance {
  return {
    agentId: 'agt-1',
    instanceId,
    status: 'active',
    mode: 'spot',
    publicIp: null,
    createdAt: T0 + MINUTE,
    terminatedAt: null,
    ...overrides,
  }
}

export function d1Replica(
  id: string,
  instanceId: string | null,
  status: string,
  createdAt = T0 + HOUR,
): D1Replica {
  return { id, agentId: 'agt-1', instanceId, status, createdAt }
}

export function emptyD1(overrides: Partial<D1Snapshot> = {}): D1Snapshot {
  return {
    agents: [],
    instances: [],
    replicas: [],
    commands: [],
    switches: [],
    events: [],
    notifications: [],
    segments: [],
    spotPrices: [],
    onDemandPrices: [],
    ...overrides,
  }
}

/** agent-1 on i-1, which runs and holds the workload's Elastic IP, as D1 says. */
export function healthy(): { ec2: Ec2Snapshot; d1: D1Snapshot; log: SoakLog } {
  return {
    ec2: {
      at: NOW,
      instances: [ec2Instance('i-1', { holdsAddress: true })],
      addressesAdrift: [],
      addressIps: { 'agent-1': ELASTIC_IP },
      onDemandPrice: 0.0416,
      volumes: [],
      interfaces: [],
    },
    d1: emptyD1({ agents: [d1Agent()], instances: [d1Instance('i-1', { publicIp: ELASTIC_IP })] }),
    log: { notices: [], outages: [], stateful: {}, writes: {} },
  }
}
