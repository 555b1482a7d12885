/**
 * The D1 schema. Times are UTC epoch milliseconds (`*_at`), prices USD per hour, ids text.
 * Enumerations are CHECK constraints over the vocabularies exported here, shared with the code.
 */
import { sql, type SQL } from 'drizzle-orm'
import {
  check,
  index,
  integer,
  primaryKey,
  real,
  sqliteTable,
  text,
  uniqueIndex,
  type AnySQLiteColumn,
} from 'drizzle-orm/sqlite-core'
import { COMMAND_STATUSES, SNAPSHOT_STATES, type SwitchStepName, type VolumeMove } from '../protocol'
import { REASON_CODES } from '../engine/types'

export const CLIENT_STATUSES = ['active', 'suspended', 'deleted'] as const
export const AGENT_STATUSES = ['online', 'offline', 'disabled', 'deleted'] as const
export const MODES = ['spot', 'ondemand', 'unknown'] as const
/** verified: registered with a signed instance identity document; its per-agent routes take only its agent tokens. */
export const AGENT_IDENTITIES = ['unverified', 'verified'] as const
export const INSTANCE_STATUSES = ['active', 'terminating', 'terminated'] as const
export const REPLICA_STATUSES = [
  'launching',
  'syncing',
  'ready',
  'promoted',
  'failed',
  'terminating',
  'terminated',
] as const
export const REPLICA_TYPES = ['manual', 'emergency'] as const
export const EVENT_KINDS = ['termination_notice', 'rebalance', 'scheduled_event', 'termination'] as const
export const SEGMENT_ROLES = ['primary', 'replica', 'overlap'] as const
export const USER_ROLES = ['admin', 'owner', 'viewer'] as const
export const SEVERITIES = ['info', 'warning', 'error', 'success'] as const

/** `column IN (...)` for a CHECK constraint. */
function oneOf(column: AnySQLiteColumn, values: readonly string[]): SQL {
  return sql`${column} in (${sql.raw(values.map((v) => `'${v}'`).join(', '))})`
}

const bool = (name: string) => integer(name, { mode: 'boolean' })
const ms = (name: string) => integer(name)

export const clients = sqliteTable(
  'clients',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    email: text('email'),
    status: text('status', { enum: CLIENT_STATUSES }).notNull().default('active'),
    webhookUrl: text('webhook_url'),
    webhookSecret: text('webhook_secret'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [check('clients_status', oneOf(t.status, CLIENT_STATUSES)), index('clients_name').on(t.name)],
)

/** Agent tokens of a client: SHA-256 hashes; a rotated token lives on until `expires_at`. */
export const clientTokens = sqliteTable(
  'client_tokens',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id),
    tokenHash: text('token_hash').notNull(),
    prefix: text('prefix').notNull(),
    createdAt: ms('created_at').notNull(),
    expiresAt: ms('expires_at'),
  },
  (t) => [uniqueIndex('client_tokens_hash').on(t.tokenHash), index('client_tokens_client').on(t.clientId)],
)

export const agents = sqliteTable(
  'agents',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id),
    logicalAgentId: text('logical_agent_id').notNull(),
    hostname: text('hostname'),
    status: text('status', { enum: AGENT_STATUSES }).notNull().default('online'),
    enabled: bool('enabled').notNull().default(true),
    agentVersion: text('agent_version'),
    instanceId: text('instance_id'),
    autoSwitchEnabled: bool('auto_switch_enabled').notNull().default(true),
    autoTerminateEnabled: bool('auto_terminate_enabled').notNull().default(true),
    terminateWaitSeconds: integer('terminate_wait_seconds').notNull().default(300),
    manualReplicaEnabled: bool('manual_replica_enabled').notNull().default(false),
    replicaCount: integer('replica_count').notNull().default(1),
    /** Legacy (< 5) agents are switched by the engine only with this opt-in. */
    legacyAutoSwitchOptIn: bool('legacy_auto_switch_opt_in').notNull().default(false),
    /** Threshold overrides; NULL inherits the active engine parameters. */
    minSavingsPercent: real('min_savings_percent'),
    riskThreshold: real('risk_threshold'),
    maxSwitchesPerWeek: integer('max_switches_per_week'),
    maxSwitchesPerDay: integer('max_switches_per_day'),
    minPoolDurationHours: real('min_pool_duration_hours'),
    /** The instance type the workload first registered on, kept across switches (engine/compatibility.ts). */
    baseInstanceType: text('base_instance_type'),
    /** The instance types the workload may run on; NULL: the default rule against the base type. */
    allowedInstanceTypes: text('allowed_instance_types', { mode: 'json' }).$type<string[]>(),
    /**
     * What the workload's image boots (DescribeImages `Architecture`, `EnaSupport`), as its 5.x agent
     * read it at its last registration; NULL: unknown, the base type stands in (engine/workload.ts).
     */
    imageArchitecture: text('image_architecture'),
    imageEnaSupport: bool('image_ena_support'),
    /** Hours between the agent's backup AMIs of its instance (0: none); 5.x agents only. */
    backupImageHours: integer('backup_image_hours').notNull().default(24),
    /** The newest backup AMI the agent reported (flows/agents.ts recordBackupImage), and when EC2 made it. */
    backupImageId: text('backup_image_id'),
    backupImageAt: ms('backup_image_at'),
    /**
     * Stateful mode (5.x agents only): data volumes, the managed interface and rolling snapshots follow
     * the workload; `rpo_minutes` is the rolling snapshots' period, `drain_unit` the systemd unit stopped
     * before a switch or on a notice, `hook_timeout_seconds` the pre/post-switch hooks' limit.
     */
    stateful: bool('stateful').notNull().default(false),
    rpoMinutes: integer('rpo_minutes').notNull().default(15),
    drainUnit: text('drain_unit'),
    hookTimeoutSeconds: integer('hook_timeout_seconds').notNull().default(30),
    drainTargetGroups: bool('drain_target_groups').notNull().default(true),
    /** Once verified, never unverified again: a client token can no longer register under its logical id. */
    identity: text('identity', { enum: AGENT_IDENTITIES }).notNull().default('unverified'),
    lastHeartbeatAt: ms('last_heartbeat_at'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
    deletedAt: ms('deleted_at'),
  },
  (t) => [
    check('agents_status', oneOf(t.status, AGENT_STATUSES)),
    uniqueIndex('agents_client_logical').on(t.clientId, t.logicalAgentId),
  ],
)

/**
 * One per instance that registered with a signed identity document: the hash of the agent token issued
 * to it. (account, region, instance) is unique, so one document mints one identity (auth/agent-tokens.ts
 * writes it).
 */
export const agentTokens = sqliteTable(
  'agent_tokens',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id),
    agentId: text('agent_id')
      .notNull()
      .references(() => agents.id),
    accountId: text('account_id').notNull(),
    region: text('region').notNull(),
    instanceId: text('instance_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: ms('created_at').notNull(),
    /** Set an hour after its instance ended (the hourly `agent-tokens` job): the token and its document are dead. */
    revokedAt: ms('revoked_at'),
  },
  (t) => [
    uniqueIndex('agent_tokens_instance').on(t.accountId, t.region, t.instanceId),
    uniqueIndex('agent_tokens_hash').on(t.tokenHash),
    index('agent_tokens_agent').on(t.agentId),
  ],
)
export type AgentToken = typeof agentTokens.$inferSelect

export const instances = sqliteTable(
  'instances',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id),
    agentId: text('agent_id')
      .notNull()
      .references(() => agents.id),
    instanceId: text('instance_id').notNull(),
    instanceType: text('instance_type'),
    region: text('region'),
    az: text('az'),
    amiId: text('ami_id'),
    mode: text('mode', { enum: MODES }).notNull().default('unknown'),
    poolId: text('pool_id'),
    privateIp: text('private_ip'),
    // The address the instance holds while it runs (the workload's Elastic IP once it followed onto it):
    // EC2 holds that address where a row not ended names it, on no instance when none does.
    publicIp: text('public_ip'),
    status: text('status', { enum: INSTANCE_STATUSES }).notNull().default('active'),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
    terminatedAt: ms('terminated_at'),
  },
  (t) => [
    check('instances_mode', oneOf(t.mode, MODES)),
    check('instances_status', oneOf(t.status, INSTANCE_STATUSES)),
    uniqueIndex('instances_client_instance').on(t.clientId, t.instanceId),
    // An operator's lookup by EC2 id spans clients (force-switch, the admin pages): without it, a scan
    // of every instance row.
    index('instances_instance').on(t.instanceId),
    index('instances_agent').on(t.agentId),
    // The engine reads how long instances lived in each pool (db/queries/market.ts).
    index('instances_pool').on(t.poolId, t.terminatedAt),
  ],
)

/**
 * A spot capacity pool: `<instance_type>.<availability_zone>`, known once a client reported it. Its
 * prices are per client: `price_quotes` and `spot_prices`.
 */
export const pools = sqliteTable(
  'pools',
  {
    id: text('id').primaryKey(),
    instanceType: text('instance_type').notNull(),
    region: text('region').notNull(),
    az: text('az').notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [index('pools_type_region').on(t.instanceType, t.region)],
)

/**
 * Each client's latest quote of a price series (a spot pool's id, or `ondemand:<type>:<region>`): the
 * state the writer throttles change points against, and what "the price now" is resolved from
 * (prices/resolve.ts). `shared`: the report may feed other tenants (auth/principal.ts feedsOtherTenants).
 * Writer: flows/prices.ts.
 */
export const priceQuotes = sqliteTable(
  'price_quotes',
  {
    series: text('series').notNull(),
    clientId: text('client_id').notNull(),
    price: real('price').notNull(),
    changedAt: ms('changed_at').notNull(),
    reportedAt: ms('reported_at').notNull(),
    shared: integer('shared', { mode: 'boolean' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.series, t.clientId] })],
)

/** Spot price change points of a pool (a step function), full resolution for 30 days. */
export const spotPrices = sqliteTable(
  'spot_prices',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    poolId: text('pool_id').notNull(),
    price: real('price').notNull(),
    observedAt: ms('observed_at').notNull(),
    reportedByClientId: text('reported_by_client_id'),
    reportedByAgentId: text('reported_by_agent_id'),
    /** The report may feed other tenants' prices (see price_quotes). */
    shared: integer('shared', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    index('spot_prices_pool_time').on(t.poolId, t.observedAt),
    index('spot_prices_pool_client_time').on(t.poolId, t.reportedByClientId, t.observedAt),
  ],
)

/**
 * The one 5.x agent per (client, region, instance type) that reports prices; the others are told not to
 * in their config (`pricing_reporter`). Writer: flows/pricing-reporters.ts.
 */
export const pricingReporters = sqliteTable(
  'pricing_reporters',
  {
    clientId: text('client_id')
      .notNull()
      .references(() => clients.id),
    region: text('region').notNull(),
    instanceType: text('instance_type').notNull(),
    agentId: text('agent_id').notNull(),
    electedAt: ms('elected_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.clientId, t.region, t.instanceType] })],
)

/**
 * Hourly rollup of each reporter's spot price step function, kept a year (flows/price-retention.ts
 * writes it from `spot_prices`, whose full resolution is kept 30 days): the price charts' windows
 * beyond 30 days read it. A row only for an hour in which that reporter's price changed; the hour's
 * `last_price` holds until its next row, as a step function does. `reporter`: the reporting client's
 * id, '' for the operator's rows (no client); `shared` when every point of the hour was.
 */
export const spotPricesHourly = sqliteTable(
  'spot_prices_hourly',
  {
    poolId: text('pool_id').notNull(),
    hourAt: ms('hour_at').notNull(),
    reporter: text('reporter').notNull().default(''),
    shared: bool('shared').notNull().default(false),
    minPrice: real('min_price').notNull(),
    maxPrice: real('max_price').notNull(),
    /** Time-weighted over the part of the hour with a price (from the price in force at its start). */
    avgPrice: real('avg_price').notNull(),
    lastPrice: real('last_price').notNull(),
  },
  (t) => [primaryKey({ columns: [t.poolId, t.hourAt, t.reporter] })],
)

/** How far a rollup has gone: every hour before `until` (epoch ms) is rolled up. Writer: flows/price-retention.ts. */
export const rollupCursors = sqliteTable('rollup_cursors', {
  name: text('name').primaryKey(),
  until: ms('until').notNull(),
  updatedAt: ms('updated_at').notNull(),
})

/** On-demand price change points per instance type and region. */
export const ondemandPrices = sqliteTable(
  'ondemand_prices',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    instanceType: text('instance_type').notNull(),
    region: text('region').notNull(),
    price: real('price').notNull(),
    observedAt: ms('observed_at').notNull(),
    reportedByClientId: text('reported_by_client_id'),
    /** The report may feed other tenants' prices (see price_quotes). */
    shared: integer('shared', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [index('ondemand_prices_type_time').on(t.instanceType, t.region, t.observedAt)],
)

/** Command history; the live queue is the agent's Durable Object. */
export const commands = sqliteTable(
  'commands',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    agentId: text('agent_id').notNull(),
    instanceId: text('instance_id'),
    commandType: text('command_type').notNull(),
    targetMode: text('target_mode'),
    targetPoolId: text('target_pool_id'),
    priority: integer('priority').notNull(),
    terminateWaitSeconds: integer('terminate_wait_seconds'),
    payload: text('payload', { mode: 'json' }),
    source: text('source').notNull(),
    status: text('status', { enum: COMMAND_STATUSES }).notNull().default('queued'),
    message: text('message'),
    createdAt: ms('created_at').notNull(),
    expiresAt: ms('expires_at'),
    deliveredAt: ms('delivered_at'),
    ackedAt: ms('acked_at'),
    startedAt: ms('started_at'),
    finishedAt: ms('finished_at'),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [
    check('commands_status', oneOf(t.status, COMMAND_STATUSES)),
    index('commands_agent_created').on(t.agentId, t.createdAt),
    index('commands_client_created').on(t.clientId, t.createdAt),
    // A poll's probe for an open command (finished_at null) reads no finished history.
    index('commands_agent_finished').on(t.agentId, t.finishedAt),
  ],
)

export const switches = sqliteTable(
  'switches',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    agentId: text('agent_id').notNull(),
    commandId: text('command_id'),
    trigger: text('trigger').notNull(),
    oldInstanceId: text('old_instance_id'),
    newInstanceId: text('new_instance_id'),
    oldMode: text('old_mode'),
    newMode: text('new_mode'),
    oldPoolId: text('old_pool_id'),
    newPoolId: text('new_pool_id'),
    /** The new instance's type. */
    instanceType: text('instance_type'),
    /** The old instance's type: another than `instance_type` when the switch changed the type. */
    oldInstanceType: text('old_instance_type'),
    region: text('region'),
    onDemandPrice: real('on_demand_price'),
    oldPrice: real('old_price'),
    newPrice: real('new_price'),
    amiId: text('ami_id'),
    snapshotUsed: bool('snapshot_used'),
    /** Agent clock times, used only for durations. */
    initiatedAt: ms('initiated_at'),
    amiCreatedAt: ms('ami_created_at'),
    launchedAt: ms('launched_at'),
    readyAt: ms('ready_at'),
    trafficSwitchedAt: ms('traffic_switched_at'),
    oldTerminatedAt: ms('old_terminated_at'),
    downtimeMs: integer('downtime_ms'),
    durationMs: integer('duration_ms'),
    receivedAt: ms('received_at').notNull(),
    oldTerminationConfirmedAt: ms('old_termination_confirmed_at'),
    /** Why EC2 did not follow the switch (a failed promotion command); NULL when it did or is under way. */
    errorMessage: text('error_message'),
    /**
     * When the control plane undid the switch because the agent refused it (the target was not its
     * instance): EC2 never ran the workload there; history shows it undone, the ledger ignores it.
     */
    undoneAt: ms('undone_at'),
    /**
     * A stateful switch (its report's `stateful` object; NULL for a stateless one): at most this many
     * seconds of writes lost (0: none; NULL: not known), and the workload's private address before and
     * after, on its managed interface (`address_changed` when the switch crossed AZs).
     */
    dataLossBoundSeconds: integer('data_loss_bound_seconds'),
    interfaceId: text('interface_id'),
    oldPrivateIp: text('old_private_ip'),
    newPrivateIp: text('new_private_ip'),
    addressChanged: bool('address_changed'),
    /**
     * The stateful switch's steps and volume moves, as the agent measured them. JSON on the row, not a
     * table: they are written once with the switch and only ever read with it (its detail page).
     */
    statefulDetail: text('stateful_detail', { mode: 'json' }).$type<StatefulDetail>(),
  },
  (t) => [
    index('switches_client_received').on(t.clientId, t.receivedAt),
    index('switches_agent_received').on(t.agentId, t.receivedAt),
    uniqueIndex('switches_command').on(t.commandId),
  ],
)

/** What `switches.stateful_detail` holds: times are the agent's clock, epoch ms. */
export interface StatefulDetail {
  steps: { name: SwitchStepName; startedAt: number; ms: number; ok: boolean; detail: string | null }[]
  volumes: { device: string; oldVolumeId: string; newVolumeId: string; how: VolumeMove }[]
  /** The downtime the agent measured (workload stopped → serving again); NULL: derived from the times. */
  downtimeMs: number | null
}

export const replicas = sqliteTable(
  'replicas',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    agentId: text('agent_id').notNull(),
    /** The real EC2 id once launched; NULL before (the API shows a placeholder). */
    instanceId: text('instance_id'),
    replicaType: text('replica_type', { enum: REPLICA_TYPES }).notNull(),
    /** `ondemand`: the last resort of an interruption when no spot pool had capacity. */
    mode: text('mode', { enum: ['spot', 'ondemand'] })
      .notNull()
      .default('spot'),
    status: text('status', { enum: REPLICA_STATUSES }).notNull().default('launching'),
    syncStatus: text('sync_status'),
    syncLatencyMs: integer('sync_latency_ms'),
    stateTransferProgress: real('state_transfer_progress'),
    poolId: text('pool_id').notNull(),
    instanceType: text('instance_type').notNull(),
    region: text('region').notNull(),
    az: text('az').notNull(),
    parentInstanceId: text('parent_instance_id'),
    /** Idempotency key of the signal that created it (emergency replicas). */
    signalKey: text('signal_key'),
    hourlyCost: real('hourly_cost'),
    errorMessage: text('error_message'),
    createdAt: ms('created_at').notNull(),
    launchedAt: ms('launched_at'),
    syncStartedAt: ms('sync_started_at'),
    syncCompletedAt: ms('sync_completed_at'),
    readyAt: ms('ready_at'),
    promotedAt: ms('promoted_at'),
    terminatedAt: ms('terminated_at'),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [
    check('replicas_status', oneOf(t.status, REPLICA_STATUSES)),
    check('replicas_type', oneOf(t.replicaType, REPLICA_TYPES)),
    index('replicas_agent_status').on(t.agentId, t.status),
    index('replicas_client').on(t.clientId, t.createdAt),
    uniqueIndex('replicas_agent_signal').on(t.agentId, t.signalKey),
  ],
)

/**
 * Interruption notices, rebalance recommendations and terminations: the engine's risk data. `shared`:
 * the signal may feed other tenants' decisions (auth/principal.ts feedsOtherTenants at the route that
 * received it); its own client's decisions count it either way.
 */
export const events = sqliteTable(
  'events',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    agentId: text('agent_id').notNull(),
    instanceId: text('instance_id'),
    poolId: text('pool_id'),
    kind: text('kind', { enum: EVENT_KINDS }).notNull(),
    terminationTime: ms('termination_time'),
    detectedAt: ms('detected_at'),
    receivedAt: ms('received_at').notNull(),
    action: text('action'),
    replicaId: text('replica_id'),
    newInstanceId: text('new_instance_id'),
    failoverMs: integer('failover_ms'),
    detail: text('detail', { mode: 'json' }),
    shared: integer('shared', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    check('events_kind', oneOf(t.kind, EVENT_KINDS)),
    index('events_pool_received').on(t.poolId, t.receivedAt),
    index('events_agent_received').on(t.agentId, t.receivedAt),
  ],
)

export const cleanupReports = sqliteTable(
  'cleanup_reports',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    agentId: text('agent_id').notNull(),
    reportedAt: ms('reported_at'),
    receivedAt: ms('received_at').notNull(),
    snapshotsDeleted: integer('snapshots_deleted').notNull(),
    amisDeleted: integer('amis_deleted').notNull(),
    failures: integer('failures').notNull(),
    error: text('error'),
    body: text('body', { mode: 'json' }).notNull(),
  },
  (t) => [
    index('cleanup_reports_agent').on(t.agentId, t.receivedAt),
    // Retention deletes by age across agents (flows/cleanup.ts).
    index('cleanup_reports_received').on(t.receivedAt),
  ],
)

export const notifications = sqliteTable(
  'notifications',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    agentId: text('agent_id'),
    kind: text('kind').notNull(),
    severity: text('severity', { enum: SEVERITIES }).notNull(),
    message: text('message').notNull(),
    createdAt: ms('created_at').notNull(),
    /** Insertion order, one more than the largest so far (flows/notifications.ts): webhooks' cursor. */
    seq: integer('seq'),
  },
  (t) => [
    check('notifications_severity', oneOf(t.severity, SEVERITIES)),
    index('notifications_client_created').on(t.clientId, t.createdAt),
    index('notifications_client_seq').on(t.clientId, t.seq),
    index('notifications_seq').on(t.seq),
  ],
)

/** Per-user read state of notifications. */
export const notificationReads = sqliteTable(
  'notification_reads',
  {
    notificationId: text('notification_id').notNull(),
    userId: text('user_id').notNull(),
    readAt: ms('read_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.notificationId, t.userId] })],
)

export const auditLog = sqliteTable(
  'audit_log',
  {
    id: text('id').primaryKey(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    clientId: text('client_id'),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    before: text('before', { mode: 'json' }),
    after: text('after', { mode: 'json' }),
    requestId: text('request_id'),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [index('audit_log_created').on(t.createdAt), index('audit_log_client').on(t.clientId, t.createdAt)],
)

/**
 * Rate-limit slots (src/auth/rate-limit.ts): one row per attempt taken, counted per `subject`, per
 * `detail` and per pair within a window. Login: subject = e-mail, detail = client IP.
 */
export const rateSlots = sqliteTable(
  'rate_slots',
  {
    id: text('id').primaryKey(),
    scope: text('scope').notNull(),
    subject: text('subject').notNull(),
    detail: text('detail').notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [
    index('rate_slots_subject').on(t.scope, t.subject, t.createdAt),
    index('rate_slots_detail').on(t.scope, t.detail, t.createdAt),
    index('rate_slots_created').on(t.createdAt),
  ],
)

/** Dashboard accounts: admins (client_id NULL) and client users (owner, viewer). */
export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    email: text('email').notNull(),
    name: text('name'),
    role: text('role', { enum: USER_ROLES }).notNull(),
    clientId: text('client_id'),
    passwordHash: text('password_hash').notNull(),
    passwordSalt: text('password_salt').notNull(),
    createdAt: ms('created_at').notNull(),
    disabledAt: ms('disabled_at'),
  },
  (t) => [check('users_role', oneOf(t.role, USER_ROLES)), uniqueIndex('users_email').on(t.email)],
)

/** Browser sessions; `id` is the SHA-256 of the cookie value. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    csrfToken: text('csrf_token').notNull(),
    createdAt: ms('created_at').notNull(),
    expiresAt: ms('expires_at').notNull(),
    revokedAt: ms('revoked_at'),
  },
  (t) => [index('sessions_user').on(t.userId)],
)

/** Personal API tokens of users, for scripts (SHA-256 hashes). */
export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    prefix: text('prefix').notNull(),
    createdAt: ms('created_at').notNull(),
    lastUsedAt: ms('last_used_at'),
    revokedAt: ms('revoked_at'),
  },
  (t) => [uniqueIndex('api_tokens_hash').on(t.tokenHash), index('api_tokens_user').on(t.userId)],
)

/** One-time invitations to set a password; `id` is the SHA-256 of the invite token. */
export const userInvites = sqliteTable(
  'user_invites',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    createdBy: text('created_by'),
    createdAt: ms('created_at').notNull(),
    expiresAt: ms('expires_at').notNull(),
    usedAt: ms('used_at'),
  },
  (t) => [index('user_invites_user').on(t.userId)],
)

/** Versioned decision-engine parameters (JSON data, never code). */
export const engineParams = sqliteTable(
  'engine_params',
  {
    version: integer('version').primaryKey(),
    params: text('params', { mode: 'json' }).notNull(),
    status: text('status', { enum: ['draft', 'active', 'shadow', 'retired'] }).notNull(),
    note: text('note'),
    createdBy: text('created_by'),
    createdAt: ms('created_at').notNull(),
    activatedAt: ms('activated_at'),
  },
  (t) => [check('engine_params_status', oneOf(t.status, ['draft', 'active', 'shadow', 'retired']))],
)

/**
 * Backtest reports of a parameter version on stored price history (written by src/flows/backtest.ts).
 * `inputs`: the request and the trace it became; `strategies`: the report's table rows.
 */
export const backtestRuns = sqliteTable(
  'backtest_runs',
  {
    id: text('id').primaryKey(),
    paramsVersion: integer('params_version').notNull(),
    instanceType: text('instance_type').notNull(),
    region: text('region').notNull(),
    days: integer('days').notNull(),
    inputs: text('inputs', { mode: 'json' }).notNull(),
    strategies: text('strategies', { mode: 'json' }).notNull(),
    createdBy: text('created_by'),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [index('backtest_runs_version_created').on(t.paramsVersion, t.createdAt)],
)

/**
 * A client's own weights of the engine's risk components (engine/risk-weights.ts): a component absent
 * from `weights` inherits the active parameter version's. Writer: flows/risk-weights.ts.
 */
export const clientRiskWeights = sqliteTable('client_risk_weights', {
  clientId: text('client_id')
    .primaryKey()
    .references(() => clients.id),
  weights: text('weights', { mode: 'json' }).notNull(),
  updatedAt: ms('updated_at').notNull(),
})

/** Engine decisions, stored when they differ from the agent's previous one. */
export const decisions = sqliteTable(
  'decisions',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    agentId: text('agent_id').notNull(),
    paramsVersion: integer('params_version').notNull(),
    shadow: bool('shadow').notNull().default(false),
    decision: text('decision', { enum: ['stay', 'switch_pool', 'to_spot', 'to_ondemand'] }).notNull(),
    targetMode: text('target_mode'),
    targetPoolId: text('target_pool_id'),
    expectedSavingsPerHour: real('expected_savings_per_hour'),
    risk: real('risk'),
    confidence: real('confidence'),
    /** Why the target was chosen (engine/types.ts ReasonCode); null for a stay without a better placement. */
    reasonCode: text('reason_code', { enum: REASON_CODES }),
    reasons: text('reasons', { mode: 'json' }).notNull(),
    blockedBy: text('blocked_by', { mode: 'json' }).notNull(),
    inputs: text('inputs', { mode: 'json' }),
    commandId: text('command_id'),
    appliedAt: ms('applied_at'),
    repeatCount: integer('repeat_count').notNull().default(1),
    createdAt: ms('created_at').notNull(),
    lastSeenAt: ms('last_seen_at').notNull(),
  },
  (t) => [index('decisions_agent_created').on(t.agentId, t.createdAt)],
)

/** Usage segments of the savings ledger, bounded by server receive times. */
export const usageSegments = sqliteTable(
  'usage_segments',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    agentId: text('agent_id').notNull(),
    instanceId: text('instance_id').notNull(),
    role: text('role', { enum: SEGMENT_ROLES }).notNull(),
    mode: text('mode', { enum: MODES }).notNull(),
    poolId: text('pool_id'),
    instanceType: text('instance_type').notNull(),
    region: text('region').notNull(),
    startedAt: ms('started_at').notNull(),
    endedAt: ms('ended_at'),
  },
  (t) => [
    check('usage_segments_role', oneOf(t.role, SEGMENT_ROLES)),
    index('usage_segments_agent').on(t.agentId, t.startedAt),
    index('usage_segments_open').on(t.instanceId, t.endedAt),
    // One open segment per key (the key syncSegments matches on): two syncs of one agent can run at once
    // (a switch report and the new instance's registration), and each would open what the other opens.
    uniqueIndex('usage_segments_open_key')
      .on(t.agentId, t.instanceId, t.role, t.mode, sql`coalesce(${t.poolId}, '')`)
      .where(sql`${t.endedAt} is null`),
  ],
)

/** Daily savings per agent (USD), recomputed by cron for the last days. */
export const savingsDaily = sqliteTable(
  'savings_daily',
  {
    agentId: text('agent_id').notNull(),
    clientId: text('client_id').notNull(),
    day: text('day').notNull(),
    baselineCost: real('baseline_cost').notNull(),
    primaryCost: real('primary_cost').notNull(),
    replicaCost: real('replica_cost').notNull(),
    overlapCost: real('overlap_cost').notNull(),
    savings: real('savings').notNull(),
    computedAt: ms('computed_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.agentId, t.day] }),
    index('savings_daily_client_day').on(t.clientId, t.day),
    // Covering index: the fleet-wide per-day sums of the admin overview read only this index.
    index('savings_daily_day_totals').on(
      t.day,
      t.baselineCost,
      t.primaryCost,
      t.replicaCost,
      t.overlapCost,
      t.savings,
    ),
  ],
)

/**
 * Webhook delivery cursor per client (owned by src/flows/webhooks/dispatch.ts): notifications up to
 * (`delivered_until`, `delivered_id`) in (created_at, id) order have been delivered or skipped.
 */
export const webhookCursors = sqliteTable('webhook_cursors', {
  clientId: text('client_id').primaryKey(),
  /** The `seq` of the last notification delivered (or skipped as too old). */
  deliveredSeq: integer('delivered_seq').notNull().default(0),
  deliveredUntil: ms('delivered_until').notNull(),
  deliveredId: text('delivered_id').notNull().default(''),
  lastError: text('last_error'),
  updatedAt: ms('updated_at').notNull(),
})

/** Last run of each scheduled job, for system health. */
export const cronRuns = sqliteTable('cron_runs', {
  job: text('job').primaryKey(),
  startedAt: ms('started_at').notNull(),
  finishedAt: ms('finished_at'),
  ok: bool('ok'),
  detail: text('detail'),
})

/**
 * One row per UTC day (written by src/flows/clients.ts), upserted by the hourly cron: the client
 * growth chart reads only these real snapshots, never a history rebuilt after the fact.
 */
export const clientDaily = sqliteTable('client_daily', {
  day: text('day').primaryKey(),
  total: integer('total').notNull(),
  newClients: integer('new_clients').notNull(),
  active: integer('active').notNull(),
  computedAt: ms('computed_at').notNull(),
})

export const PLACEMENT_SCORE_STATUSES = ['ok', 'denied', 'limited'] as const
export const CAPACITY_ERROR_SOURCES = ['switch', 'replica'] as const

/**
 * Each client's latest spot placement score of a pool (GetSpotPlacementScores asks per AZ for a set of
 * types: the AZ's score is every pool of the set there). Scores are per AWS account: never shared
 * between clients. Writer: flows/capacity.ts.
 */
export const placementScores = sqliteTable(
  'placement_scores',
  {
    clientId: text('client_id').notNull(),
    poolId: text('pool_id').notNull(),
    score: integer('score').notNull(),
    /** When EC2 answered, by the control plane's clock (the report's receipt). */
    scoredAt: ms('scored_at').notNull(),
    agentId: text('agent_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.clientId, t.poolId] })],
)

/**
 * Whether an agent's placement-score requests are answered: `denied` (the instance profile lacks
 * ec2:GetSpotPlacementScores) and `limited` (the account's 10 configurations a day are used) say the
 * engine works from history alone for its pools. Writer: flows/capacity.ts.
 */
export const placementScoreStatus = sqliteTable(
  'placement_score_status',
  {
    agentId: text('agent_id').primaryKey(),
    clientId: text('client_id').notNull(),
    status: text('status', { enum: PLACEMENT_SCORE_STATUSES }).notNull(),
    /** EC2's message when not `ok`. */
    detail: text('detail'),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [check('placement_score_status_status', oneOf(t.status, PLACEMENT_SCORE_STATUSES))],
)

/**
 * A launch into a spot pool that failed for lack of capacity: a switch's (its command) or a replica's.
 * One row per failed launch (`id` derived from the source: recording twice is harmless). The engine's
 * capacity risk reads them. Writer: flows/capacity.ts.
 */
export const capacityErrors = sqliteTable(
  'capacity_errors',
  {
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    agentId: text('agent_id').notNull(),
    poolId: text('pool_id').notNull(),
    source: text('source', { enum: CAPACITY_ERROR_SOURCES }).notNull(),
    message: text('message'),
    at: ms('at').notNull(),
  },
  (t) => [
    check('capacity_errors_source', oneOf(t.source, CAPACITY_ERROR_SOURCES)),
    index('capacity_errors_pool_at').on(t.poolId, t.at),
  ],
)

/**
 * A stateful agent's data volumes (non-root EBS volumes of its workload), as it last reported them:
 * replaced as a whole by each report. Writer: flows/workload-inventory.ts.
 */
export const workloadVolumes = sqliteTable(
  'workload_volumes',
  {
    clientId: text('client_id').notNull(),
    agentId: text('agent_id').notNull(),
    volumeId: text('volume_id').notNull(),
    device: text('device').notNull(),
    sizeGib: integer('size_gib').notNull(),
    az: text('az').notNull(),
    deleteOnTermination: bool('delete_on_termination').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.agentId, t.volumeId] })],
)

/** A stateful agent's managed network interface (its stable private address). Writer: flows/workload-inventory.ts. */
export const workloadInterfaces = sqliteTable('workload_interfaces', {
  agentId: text('agent_id').primaryKey(),
  clientId: text('client_id').notNull(),
  eniId: text('eni_id').notNull(),
  privateIp: text('private_ip').notNull(),
  subnetId: text('subnet_id').notNull(),
  updatedAt: ms('updated_at').notNull(),
})

/**
 * The rolling snapshots a stateful agent holds (its RPO's evidence), as it last reported them:
 * replaced as a whole by each report. Times are EC2's, epoch ms. Writer: flows/workload-inventory.ts.
 */
export const rollingSnapshots = sqliteTable(
  'rolling_snapshots',
  {
    clientId: text('client_id').notNull(),
    agentId: text('agent_id').notNull(),
    snapshotId: text('snapshot_id').notNull(),
    volumeId: text('volume_id').notNull(),
    device: text('device').notNull(),
    startedAt: ms('started_at').notNull(),
    state: text('state', { enum: SNAPSHOT_STATES }).notNull(),
    completedAt: ms('completed_at'),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.agentId, t.snapshotId] }),
    check('rolling_snapshots_state', oneOf(t.state, SNAPSHOT_STATES)),
    index('rolling_snapshots_agent_started').on(t.agentId, t.startedAt),
  ],
)

export type Client = typeof clients.$inferSelect
export type Agent = typeof agents.$inferSelect
export type Instance = typeof instances.$inferSelect
export type Command = typeof commands.$inferSelect
export type Replica = typeof replicas.$inferSelect
export type Switch = typeof switches.$inferSelect
export type User = typeof users.$inferSelect
