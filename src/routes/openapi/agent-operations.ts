/** Operations of the agent API (client token), with the body schemas exported by its route files. */
import { CleanupReportBody } from '../agents/cleanup'
import { ClaimBody, ExecutedBody, MarkExecutedBody } from '../agents/commands'
import { IssueSwitchBody } from '../agents/engine'
import { HeartbeatBody } from '../agents/heartbeat'
import { RegisterBody } from '../agents/register'
import {
  ReplicaCreateBody,
  ReplicaInstanceBody,
  ReplicaListQuery,
  ReplicaPromoteBody,
  ReplicaStatusBody,
  ReplicaSyncBody,
} from '../agents/replicas'
import {
  EmergencyReplicaBody,
  RebalanceBody,
  TerminationBody,
  TerminationImminentBody,
} from '../agents/signals'
import { SwitchReportBody } from '../agents/switches'
import { op, type Operation } from './operations'

const A = '/api/agents/{agentId}'

export const AGENT_OPERATIONS: Operation[] = [
  op('get', '/health', 'agent', 'none', 'Liveness of the Worker and its database'),
  op(
    'post',
    '/api/agents/register',
    'agent',
    'client-token',
    'Register (again) an agent; the same logical id keeps its agent_id',
    { body: RegisterBody },
  ),
  op('post', `${A}/heartbeat`, 'agent', 'client-token', 'Heartbeat; 120 s of silence is offline', {
    body: HeartbeatBody,
  }),
  op(
    'get',
    `${A}/config`,
    'agent',
    'client-token',
    'Effective settings (thresholds inherited from the active engine parameters)',
  ),
  op('get', `${A}/replica-config`, 'agent', 'client-token', 'Standby replica settings'),
  op(
    'get',
    `${A}/pending-commands`,
    'agent',
    'client-token',
    'Queued commands, highest priority first (bare array); legacy agents get only the types they know',
  ),
  op(
    'post',
    `${A}/commands/{commandId}/ack`,
    'agent',
    'client-token',
    'NEW: claim a command for one instance (it runs at most once)',
    { body: ClaimBody },
  ),
  op(
    'post',
    `${A}/commands/{commandId}/running`,
    'agent',
    'client-token',
    'NEW: the claimed command started',
  ),
  op(
    'post',
    `${A}/commands/{commandId}/executed`,
    'agent',
    'client-token',
    'Result: completed or failed (idempotent)',
    { body: ExecutedBody },
  ),
  op('post', `${A}/mark-command-executed`, 'agent', 'client-token', 'Alias of executed for the 3.2.0 agent', {
    body: MarkExecutedBody,
  }),
  op('get', `${A}/stream`, 'agent', 'client-token', 'NEW: WebSocket push channel (commands, config_changed)'),
  op(
    'post',
    `${A}/pricing-report`,
    'agent',
    'client-token',
    'Spot prices of every pool of the type and region, and the on-demand price (4.0.0 and 3.2.0 bodies)',
  ),
  op('post', `${A}/switch-report`, 'agent', 'client-token', 'A finished switch (prices, timing, snapshot)', {
    body: SwitchReportBody,
  }),
  op(
    'post',
    `${A}/termination-imminent`,
    'agent',
    'client-token',
    'Two-minute notice: promote the best replica',
    { body: TerminationImminentBody },
  ),
  op(
    'post',
    `${A}/rebalance-recommendation`,
    'agent',
    'client-token',
    'Rebalance signal: a risk signal of the pool',
    { body: RebalanceBody },
  ),
  op(
    'post',
    `${A}/create-emergency-replica`,
    'agent',
    'client-token',
    'Emergency replica in the safest cheap pool (idempotent per signal)',
    { body: EmergencyReplicaBody },
  ),
  op('post', `${A}/termination`, 'agent', 'client-token', 'The instance is gone', { body: TerminationBody }),
  op('get', `${A}/replicas`, 'agent', 'client-token', 'Replicas of the agent', { query: ReplicaListQuery }),
  op('post', `${A}/replicas`, 'agent', 'client-token', 'Manual replica', { body: ReplicaCreateBody }),
  op('put', `${A}/replicas/{replicaId}`, 'agent', 'client-token', 'The real EC2 id of a launched replica', {
    body: ReplicaInstanceBody,
  }),
  op('post', `${A}/replicas/{replicaId}/status`, 'agent', 'client-token', 'Replica state', {
    body: ReplicaStatusBody,
  }),
  op('post', `${A}/replicas/{replicaId}/sync-status`, 'agent', 'client-token', 'Replica sync progress', {
    body: ReplicaSyncBody,
  }),
  op('post', `${A}/replicas/{replicaId}/promote`, 'agent', 'client-token', 'Promote a replica to primary', {
    body: ReplicaPromoteBody,
  }),
  op(
    'delete',
    `${A}/replicas/{replicaId}`,
    'agent',
    'client-token',
    'End a replica; the agent terminates its instance',
  ),
  op(
    'post',
    `${A}/cleanup-report`,
    'agent',
    'client-token',
    'What the hourly cleanup deleted and what failed',
    { body: CleanupReportBody },
  ),
  op(
    'post',
    `${A}/decide`,
    'agent',
    'client-token',
    'Run the decision engine for this agent and store the decision',
  ),
  op('get', `${A}/switch-recommendation`, 'agent', 'client-token', "The engine's current recommendation"),
  op(
    'post',
    `${A}/issue-switch-command`,
    'agent',
    'client-token',
    'Queue a switch (403 when auto-switch is off)',
    { body: IssueSwitchBody },
  ),
]
