/** Every `/api/agents/:agentId/...` route with a body it accepts, for the isolation and bad-input tests. */
import type * as z from 'zod'
import { BackupImageBody } from '../../../src/routes/agents/backup-image'
import { CleanupReportBody } from '../../../src/routes/agents/cleanup'
import { SnapshotsBody, VolumesBody } from '../../../src/routes/agents/inventory'
import { PlacementScoresBody } from '../../../src/routes/agents/placement-scores'
import { PricingReportBody } from '../../../src/routes/agents/pricing'
import { RegisterBody } from '../../../src/routes/agents/register'
import {
  ReplicaAddressBody,
  ReplicaCreateBody,
  ReplicaInstanceBody,
  ReplicaPromoteBody,
  ReplicaStatusBody,
  ReplicaSyncBody,
} from '../../../src/routes/agents/replicas'
import {
  EmergencyReplicaBody,
  RebalanceBody,
  TerminationBody,
  TerminationImminentBody,
} from '../../../src/routes/agents/signals'
import { SwitchReportBody } from '../../../src/routes/agents/switches'
import { vector } from './vectors'

export interface AgentRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** Path under /api/agents/:agentId, with `{replica}` and `{command}` to fill in. */
  path: string
  /** A body the route accepts (undefined: the route takes none). */
  body?: unknown
  /** Its zod schema, when this file's owner exports it (routes of the Durable Object's owner: none). */
  schema?: z.ZodType
}

export const AGENT_ROUTES: AgentRoute[] = [
  { method: 'GET', path: '/config' },
  { method: 'GET', path: '/replica-config' },
  { method: 'GET', path: '/replicas?status=launching' },
  { method: 'POST', path: '/pricing-report', body: vector('pricingReportV4'), schema: PricingReportBody },
  {
    method: 'POST',
    path: '/placement-scores',
    body: {
      region: 'us-east-1',
      instance_types: ['t3.medium', 't3a.medium', 't2.medium'],
      status: 'ok',
      scores: [{ az: 'us-east-1a', score: 7 }],
    },
    schema: PlacementScoresBody,
  },
  { method: 'POST', path: '/switch-report', body: vector('switchReportV4'), schema: SwitchReportBody },
  {
    method: 'POST',
    path: '/termination-imminent',
    body: vector('terminationImminentV4'),
    schema: TerminationImminentBody,
  },
  { method: 'POST', path: '/rebalance-recommendation', body: vector('rebalanceV4'), schema: RebalanceBody },
  {
    method: 'POST',
    path: '/create-emergency-replica',
    body: vector('emergencyTerminationV4'),
    schema: EmergencyReplicaBody,
  },
  { method: 'POST', path: '/replicas', body: vector('replicaCreateManualV4'), schema: ReplicaCreateBody },
  {
    method: 'PUT',
    path: '/replicas/{replica}',
    body: vector('replicaPutInstanceV4'),
    schema: ReplicaInstanceBody,
  },
  {
    method: 'POST',
    path: '/replicas/{replica}/status',
    body: vector('replicaStatusReadyV4'),
    schema: ReplicaStatusBody,
  },
  {
    method: 'POST',
    path: '/replicas/{replica}/sync-status',
    body: { sync_status: 'synced', sync_latency_ms: 12, state_transfer_progress: 100 },
    schema: ReplicaSyncBody,
  },
  { method: 'POST', path: '/replicas/{replica}/promote', body: {}, schema: ReplicaPromoteBody },
  {
    method: 'POST',
    path: '/replicas/{replica}/address-moved',
    body: { public_ip: '198.51.100.7', allocation_id: 'eipalloc-0123456789abcdef0' },
    schema: ReplicaAddressBody,
  },
  { method: 'DELETE', path: '/replicas/{replica}' },
  { method: 'POST', path: '/cleanup-report', body: vector('cleanupReportV4'), schema: CleanupReportBody },
  {
    method: 'POST',
    path: '/backup-image',
    body: { image_id: 'ami-0123456789abcdef0', created_at: '2026-03-02T04:00:00.000Z' },
    schema: BackupImageBody,
  },
  {
    method: 'POST',
    path: '/volumes',
    body: {
      volumes: [
        {
          volume_id: 'vol-0123456789abcdef0',
          device: '/dev/xvdf',
          size_gib: 100,
          az: 'us-east-1a',
          delete_on_termination: false,
        },
      ],
      interface: {
        eni_id: 'eni-0123456789abcdef0',
        private_ip: '10.0.1.15',
        subnet_id: 'subnet-0123456789abcdef0',
      },
    },
    schema: VolumesBody,
  },
  {
    method: 'POST',
    path: '/snapshots',
    body: {
      snapshots: [
        {
          snapshot_id: 'snap-0123456789abcdef0',
          volume_id: 'vol-0123456789abcdef0',
          device: '/dev/xvdf',
          started_at: '2026-03-02T04:00:00.000Z',
          state: 'completed',
          completed_at: '2026-03-02T04:01:00.000Z',
        },
      ],
    },
    schema: SnapshotsBody,
  },
  { method: 'POST', path: '/termination', body: { reason: 'terminated by test' }, schema: TerminationBody },
  { method: 'POST', path: '/heartbeat', body: { status: 'online', monitored_instances: [] } },
  { method: 'GET', path: '/pending-commands' },
  { method: 'POST', path: '/commands/{command}/executed', body: { success: true, message: 'done' } },
  { method: 'POST', path: '/mark-command-executed', body: { command_id: '{command}' } },
  { method: 'GET', path: '/stream?instance_id=i-0123456789abcdef0' },
]

export { RegisterBody }

/** The route's path for an agent, replica and command. */
export function pathOf(
  route: AgentRoute,
  agentId: string,
  ids: { replica: string; command: string },
): string {
  return `/api/agents/${agentId}${route.path.replace('{replica}', ids.replica).replace('{command}', ids.command)}`
}

/** The body with the ids filled in. */
export function bodyOf(route: AgentRoute, ids: { replica: string; command: string }): unknown {
  if (route.body === undefined) return undefined
  return JSON.parse(
    JSON.stringify(route.body).replaceAll('{command}', ids.command).replaceAll('{replica}', ids.replica),
  )
}
