/** Operations of the people-facing API (operator token, personal token or session). */
import { DeleteClientBody } from '../admin/client-admin'
import { CreateClientBody } from '../admin/clients'
import { CreateVersionBody, HistoryQuery as EngineHistoryQuery } from '../admin/engine'
import { BacktestBody, BacktestListQuery } from '../admin/engine-backtests'
import { ActivityQuery } from '../admin/fleet'
import { GrowthQuery } from '../admin/growth'
import { NewAdminBody } from '../admin/users'
import { AgentConfigBody, ToggleEnabledBody } from '../client/agents'
import { CreateReplicaBody } from '../client/replicas'
import { ExportQuery } from '../client/exports'
import { ForceSwitchBody } from '../client/force-switch'
import { NewTokenBody, PasswordBody } from '../client/me'
import { NotificationsQuery } from '../client/notifications'
import { DecisionsQuery, SwitchHistoryQuery } from '../client/reports'
import { BreakdownQuery, SavingsQuery } from '../client/savings'
import { WebhookBody } from '../client/settings'
import { NewUser } from '../../auth/accounts'
import { AuditQuery } from '../../db/queries/activity'
import { AgentListQuery } from '../../db/queries/agents'
import { ClientListQuery } from '../../db/queries/clients'
import { InstanceListQuery } from '../../db/queries/instances'
import { HistoryQuery } from '../../db/queries/price-history'
import { op, type Operation } from './operations'

export const PEOPLE_OPERATIONS: Operation[] = [
  op(
    'post',
    '/api/admin/clients/create',
    'admin',
    'admin',
    'Create a client; its agent token is in this answer only',
    { body: CreateClientBody },
  ),
  op('get', '/api/admin/clients', 'admin', 'admin', 'Clients with counts and savings (X-Total-Count)', {
    query: ClientListQuery,
  }),
  op(
    'get',
    '/api/admin/clients/growth',
    'admin',
    'admin',
    'Client growth [{date,total,new,active}] from daily snapshots only (days absent without one)',
    { query: GrowthQuery },
  ),
  op('get', '/api/admin/clients/{clientId}', 'admin', 'admin', 'One client row'),
  op(
    'post',
    '/api/admin/clients/{clientId}/regenerate-token',
    'admin',
    'admin',
    'Rotate the token; the old one works for TOKEN_GRACE_HOURS',
  ),
  op('post', '/api/admin/clients/{clientId}/suspend', 'admin', 'admin', 'Suspend (agents get 403)'),
  op('post', '/api/admin/clients/{clientId}/activate', 'admin', 'admin', 'Reactivate'),
  op(
    'delete',
    '/api/admin/clients/{clientId}',
    'admin',
    'admin',
    'Delete; `confirm` must equal the client name',
    { body: DeleteClientBody },
  ),
  op(
    'get',
    '/api/admin/stats',
    'admin',
    'admin',
    'Fleet totals, savings summed once per client, spot coverage',
  ),
  op('get', '/api/admin/agents', 'admin', 'admin', 'All agents', { query: AgentListQuery }),
  op('get', '/api/admin/instances', 'admin', 'admin', 'All instances', { query: InstanceListQuery }),
  op('get', '/api/admin/activity', 'admin', 'admin', 'Notifications and audit entries, newest first', {
    query: ActivityQuery,
  }),
  op('get', '/api/admin/audit', 'admin', 'admin', 'Audit log', { query: AuditQuery }),
  op(
    'get',
    '/api/admin/system-health',
    'admin',
    'admin',
    'Database round trip, cron freshness, engine version, agent versions',
  ),
  op('get', '/api/admin/users', 'admin', 'admin', 'Every account'),
  op('post', '/api/admin/users', 'admin', 'admin', 'Create an admin (the first one with ADMIN_TOKEN)', {
    body: NewAdminBody,
  }),
  op(
    'post',
    '/api/admin/users/{userId}/disable',
    'admin',
    'admin',
    'Disable an account and end its sessions',
  ),
  op('get', '/api/admin/engine/versions', 'admin', 'admin', 'Engine parameter versions'),
  op('post', '/api/admin/engine/versions', 'admin', 'admin', 'New parameter version (JSON data)', {
    body: CreateVersionBody,
  }),
  op('post', '/api/admin/engine/versions/{version}/activate', 'admin', 'admin', 'Activate a version'),
  op('post', '/api/admin/engine/rollback', 'admin', 'admin', 'Roll back to the previously active version'),
  op('post', '/api/admin/engine/versions/{version}/shadow', 'admin', 'admin', 'Run a version in shadow mode'),
  op('delete', '/api/admin/engine/shadow', 'admin', 'admin', 'Stop the shadow run'),
  op(
    'post',
    '/api/admin/engine/versions/{version}/backtest',
    'admin',
    'admin',
    'Backtest a version on stored price history (201: the stored report; 409 when the history is too thin)',
    { body: BacktestBody },
  ),
  op(
    'get',
    '/api/admin/engine/versions/{version}/backtests',
    'admin',
    'admin',
    "A version's backtest reports",
    {
      query: BacktestListQuery,
    },
  ),
  op('get', '/api/admin/engine/versions/{version}/backtests/{id}', 'admin', 'admin', 'One backtest report'),
  op(
    'get',
    '/api/admin/engine/history/prices.txt',
    'admin',
    'admin',
    'Stored spot prices as `describe-spot-price-history --output text` (for `npm run backtest`)',
    { query: EngineHistoryQuery },
  ),
  op(
    'get',
    '/api/admin/engine/history/events.tsv',
    'admin',
    'admin',
    'Stored interruption and rebalance signals',
    {
      query: EngineHistoryQuery,
    },
  ),

  op('get', '/api/client/{clientId}', 'client', 'person', 'The client row'),
  op('get', '/api/client/{clientId}/overview', 'client', 'person', 'Fleet totals and savings of the client'),
  op('get', '/api/client/{clientId}/agents', 'client', 'person', 'Agents (bare array, X-Total-Count)', {
    query: AgentListQuery,
  }),
  op('get', '/api/client/{clientId}/agents/history', 'client', 'person', 'Agents including deleted ones'),
  op('get', '/api/client/agents/{agentId}', 'client', 'person', 'One agent'),
  op('post', '/api/client/agents/{agentId}/toggle-enabled', 'client', 'person', 'Enable or disable (owner)', {
    body: ToggleEnabledBody,
  }),
  op(
    'post',
    '/api/client/agents/{agentId}/config',
    'client',
    'person',
    'Settings and thresholds; auto-switch excludes manual replica (owner)',
    { body: AgentConfigBody },
  ),
  op(
    'delete',
    '/api/client/agents/{agentId}',
    'client',
    'person',
    'Delete and send an uninstall command (owner)',
  ),
  op(
    'get',
    '/api/client/{clientId}/instances',
    'client',
    'person',
    'Instances with prices and savings % (bare array)',
    { query: InstanceListQuery },
  ),
  op('get', '/api/client/instances/{instanceId}/pricing', 'client', 'person', 'Pools with price and savings'),
  op(
    'get',
    '/api/client/instances/{instanceId}/metrics',
    'client',
    'person',
    'Uptime, switches, ledger savings',
  ),
  op(
    'get',
    '/api/client/instances/{instanceId}/price-history',
    'client',
    'person',
    'Step series of every pool and on-demand',
    { query: HistoryQuery },
  ),
  op(
    'get',
    '/api/client/instances/{instanceId}/available-options',
    'client',
    'person',
    'Where the instance can switch to',
  ),
  op(
    'post',
    '/api/client/instances/{instanceId}/force-switch',
    'client',
    'person',
    'Switch now (priority 75, owner)',
    { body: ForceSwitchBody },
  ),
  op(
    'get',
    '/api/client/commands/{commandId}',
    'client',
    'person',
    "A command's state: queued → delivered → acked → running → completed | failed",
  ),
  op('get', '/api/client/{clientId}/replicas', 'client', 'person', 'Replicas with sync and cost'),
  op(
    'post',
    '/api/client/agents/{agentId}/replicas',
    'client',
    'person',
    'Create a manual standby replica (owner)',
    { body: CreateReplicaBody },
  ),
  op(
    'post',
    '/api/client/agents/{agentId}/replicas/{replicaId}/promote',
    'client',
    'person',
    'Promote a replica to primary (owner)',
  ),
  op(
    'delete',
    '/api/client/agents/{agentId}/replicas/{replicaId}',
    'client',
    'person',
    'Terminate a replica and its instance (owner)',
  ),
  op(
    'get',
    '/api/client/{clientId}/decisions',
    'client',
    'person',
    'Engine decisions with reasons and blocks',
    { query: DecisionsQuery },
  ),
  op('get', '/api/client/{clientId}/switch-history', 'client', 'person', 'Switches with downtime', {
    query: SwitchHistoryQuery,
  }),
  op(
    'get',
    '/api/client/{clientId}/stats/charts',
    'client',
    'person',
    'Savings trend, mode distribution, switches per day (30 days)',
  ),
  op(
    'get',
    '/api/client/{clientId}/savings',
    'client',
    'person',
    'Ledger: month-to-date, projected, lifetime, series',
    { query: SavingsQuery },
  ),
  op('get', '/api/client/{clientId}/savings/agents', 'client', 'person', 'Ledger per agent', {
    query: BreakdownQuery,
  }),
  op('get', '/api/client/{clientId}/savings/pools', 'client', 'person', 'Ledger per pool', {
    query: BreakdownQuery,
  }),
  op(
    'get',
    '/api/client/{clientId}/export/savings.csv',
    'client',
    'person',
    'CSV of daily savings per agent',
    { query: ExportQuery },
  ),
  op('get', '/api/client/{clientId}/export/switches.csv', 'client', 'person', 'CSV of the switch history'),
  op('get', '/api/client/{clientId}/users', 'client', 'person', 'Team'),
  op(
    'post',
    '/api/client/{clientId}/users/invite',
    'client',
    'person',
    'Invite a user (owner or admin); answers a one-time link',
    { body: NewUser },
  ),
  op(
    'delete',
    '/api/client/{clientId}/users/{userId}',
    'client',
    'person',
    'Disable a user (owner or admin)',
  ),
  op(
    'put',
    '/api/client/{clientId}/webhook',
    'client',
    'person',
    'Set the webhook; the HMAC secret is in this answer only',
    { body: WebhookBody },
  ),
  op('post', '/api/client/{clientId}/webhook/test', 'client', 'person', 'Send a signed test event'),
  op(
    'get',
    '/api/notifications',
    'client',
    'person',
    "Notifications of the caller's client with per-user read state",
    { query: NotificationsQuery },
  ),
  op('post', '/api/notifications/{id}/mark-read', 'client', 'person', 'Mark one read (for the caller)'),
  op(
    'post',
    '/api/notifications/mark-all-read',
    'client',
    'person',
    "Mark all of the caller's client read (for the caller)",
  ),

  op('get', '/api/me', 'account', 'person', 'Who am I'),
  op('post', '/api/me/password', 'account', 'person', 'Change the password (ends every session)', {
    body: PasswordBody,
  }),
  op('get', '/api/me/tokens', 'account', 'person', 'Personal API tokens'),
  op('post', '/api/me/tokens', 'account', 'person', 'New personal token (shown once)', {
    body: NewTokenBody,
  }),
  op('delete', '/api/me/tokens/{id}', 'account', 'person', 'Revoke a token'),
]
