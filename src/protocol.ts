/**
 * Wire messages shared by the control plane and the TypeScript agent: commands, the agent config and
 * the push-socket messages. Imports only zod, so the agent bundle can include it.
 */
import * as z from 'zod'

export const Mode = z.enum(['spot', 'ondemand'])
export type Mode = z.infer<typeof Mode>

/** Command priorities of agent-api.md. */
export const PRIORITY = { emergency: 100, manual: 75, engineUrgent: 50, engine: 25, scheduled: 10 } as const

export const COMMAND_TYPES = [
  'switch',
  'create_replica',
  'promote_replica',
  'terminate_replica',
  'terminate_instance',
  'cleanup',
  'uninstall',
  'register_targets',
] as const
export type CommandType = (typeof COMMAND_TYPES)[number]

/** Types the installed agents understand, by major version. */
export function commandTypesFor(agentVersion: string | null | undefined): readonly CommandType[] {
  const major = majorVersion(agentVersion)
  if (major >= 5) return COMMAND_TYPES
  if (major === 4) return ['switch', 'create_replica']
  return ['switch']
}

/** Major version of an agent; unknown or malformed counts as legacy 4. */
export function majorVersion(agentVersion: string | null | undefined): number {
  const major = Number.parseInt(agentVersion ?? '', 10)
  return Number.isFinite(major) ? major : 4
}

export function isLegacyAgent(agentVersion: string | null | undefined): boolean {
  return majorVersion(agentVersion) < 5
}

const commandBase = {
  id: z.string(),
  /** The EC2 instance the command is for; null: whichever instance of the agent polls. */
  instance_id: z.string().nullable(),
  priority: z.number().int(),
  /** ISO-8601 UTC. */
  created_at: z.string(),
  expires_at: z.string().nullable(),
}

/** A command as delivered to agents (pending-commands items and socket pushes). */
export const Command = z.discriminatedUnion('command_type', [
  z.object({
    ...commandBase,
    command_type: z.literal('switch'),
    target_mode: Mode,
    /** Null with target_mode spot: the agent picks none; the control plane always sends one. */
    target_pool_id: z.string().nullable(),
    /**
     * The instance type to launch (5.x agents; the type of `target_pool_id` when both are given).
     * Absent or null: the pool's type, or with on-demand the instance's own type.
     */
    target_instance_type: z.string().max(64).nullish(),
    /** Seconds to keep the old instance after the switch; 0 or null keeps it. */
    terminate_wait_seconds: z.number().int().nullable(),
  }),
  z.object({
    ...commandBase,
    command_type: z.literal('create_replica'),
    replica_id: z.string(),
    /** `ondemand` only as an interruption's last resort, when no spot pool had capacity. */
    target_mode: Mode,
    /** `<type>.<az>`: the pool, or with `ondemand` the AZ to launch in. */
    target_pool_id: z.string(),
  }),
  z.object({
    ...commandBase,
    command_type: z.literal('promote_replica'),
    replica_id: z.string(),
    replica_instance_id: z.string(),
    /** The primary it replaces and that primary's public IP: whoever claims it can move the address. */
    old_instance_id: z.string().nullish(),
    old_public_ip: z.string().nullish(),
    /** The old primary's interruption time (its agent's clock): how long that agent waits for the replica. */
    not_after: z.string().nullish(),
  }),
  z.object({
    ...commandBase,
    command_type: z.literal('terminate_replica'),
    replica_id: z.string(),
    replica_instance_id: z.string().nullable(),
  }),
  z.object({
    ...commandBase,
    command_type: z.literal('terminate_instance'),
    target_instance_id: z.string(),
    reason: z.string(),
  }),
  z.object({ ...commandBase, command_type: z.literal('cleanup') }),
  z.object({ ...commandBase, command_type: z.literal('uninstall') }),
  z.object({
    ...commandBase,
    /**
     * An interruption's replacement (`instance_id`, the workload's instance now) joins the ELBv2 target
     * groups the interrupted instance's drain left, on the same ports (flows/replicas/notice-drain.ts).
     */
    command_type: z.literal('register_targets'),
    /** The interrupted instance and its notice's time (agent clock, ISO; null: none): the drain it completes. */
    old_instance_id: z.string(),
    termination_time: z.string().nullable(),
    target_groups: z
      .array(
        z.object({ target_group_arn: z.string().min(1).max(512), port: z.number().int().min(1).max(65535) }),
      )
      .min(1)
      .max(32),
  }),
])
export type Command = z.infer<typeof Command>

/** Command states, one vocabulary everywhere (db/schema's `commands.status` column uses this list). */
export const COMMAND_STATUSES = [
  'queued',
  'delivered',
  'acked',
  'running',
  'completed',
  'failed',
  'expired',
  'cancelled',
] as const
export const CommandStatus = z.enum(COMMAND_STATUSES)
export type CommandStatus = z.infer<typeof CommandStatus>

/** GET /api/agents/:agentId/config and the `config` of register. */
export const AgentConfig = z.object({
  enabled: z.boolean(),
  auto_switch_enabled: z.boolean(),
  auto_terminate_enabled: z.boolean(),
  terminate_wait_seconds: z.number().int(),
  manual_replica_enabled: z.boolean(),
  replica_enabled: z.boolean(),
  replica_count: z.number().int(),
  min_savings_percent: z.number(),
  risk_threshold: z.number(),
  max_switches_per_week: z.number().int(),
  max_switches_per_day: z.number().int(),
  min_pool_duration_hours: z.number(),
  /**
   * 5.x agents only: whether this agent reports its pools' prices (one per client, region and type,
   * flows/pricing-reporters.ts). Absent (an older control plane): it reports.
   */
  pricing_reporter: z.boolean().optional(),
  /**
   * 5.x reporters only: the instance types to price (spot in every AZ and on-demand), its own first:
   * every type the workloads of its group may move to. Absent: its own type alone.
   */
  pricing_instance_types: z.array(z.string().max(64)).max(32).optional(),
  /**
   * 5.x agents only: hours between backup AMIs of the instance (0: none). Absent (an older control
   * plane): none.
   */
  backup_image_hours: z.number().int().min(0).optional(),
  /**
   * 5.x agents only, the stateful mode (absent: off): data volumes, the managed interface and rolling
   * snapshots follow the workload. `rpo_minutes`: the rolling snapshots' period; `drain_unit`: the
   * systemd unit stopped cleanly before a switch or on a notice (null: none); `hook_timeout_seconds`:
   * the limit of /etc/spot-optimizer/hooks/pre-switch and post-switch; `drain_target_groups`:
   * deregister from the ELBv2 target groups before a switch or on a notice (the agent drains in the
   * stateful mode only).
   */
  stateful: z.boolean().optional(),
  rpo_minutes: z.number().int().min(5).max(1440).optional(),
  drain_unit: z.string().max(256).nullable().optional(),
  hook_timeout_seconds: z.number().int().min(1).max(90).optional(),
  drain_target_groups: z.boolean().optional(),
})
export type AgentConfig = z.infer<typeof AgentConfig>

/** Control plane → agent over the push socket. */
export const ServerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), agent_id: z.string(), server_time: z.string() }),
  z.object({ type: z.literal('command'), command: Command }),
  /** Settings changed: fetch GET config again. */
  z.object({ type: z.literal('config_changed') }),
  /** The socket `heartbeat` was recorded. */
  z.object({ type: z.literal('heartbeat_ok'), server_time: z.string() }),
  /** The answer to `ping`, sent by the runtime without waking the object (SOCKET_PONG). */
  z.object({ type: z.literal('pong') }),
])
export type ServerMessage = z.infer<typeof ServerMessage>

/** Agent → control plane over the push socket. */
export const AgentMessage = z.discriminatedUnion('type', [
  /** The agent received and claimed the command (it will run at most once). */
  z.object({ type: z.literal('ack'), command_id: z.string(), instance_id: z.string() }),
  /** Started, or a step done (`step`): renews the command's lease. */
  z.object({ type: z.literal('running'), command_id: z.string(), step: z.string().max(200).nullish() }),
  /** `message` is limited as over HTTP (`POST .../executed`): a longer one is dropped, not stored. */
  z.object({
    type: z.literal('result'),
    command_id: z.string().max(128),
    success: z.boolean(),
    message: z.string().max(4096),
  }),
  /** Keeps the connection alive every 30 s; answered `pong` by the runtime (SOCKET_PING). */
  z.object({ type: z.literal('ping') }),
  /**
   * The HTTP heartbeat's fields (same meaning; null keeps the old value), sent on open, on a change and
   * every SOCKET_HEARTBEAT_MS while the socket is up, in place of POST heartbeat. The instance is the
   * socket's own: `instance_id` naming another one is ignored.
   */
  z.object({
    type: z.literal('heartbeat'),
    status: z.enum(['online', 'disabled', 'offline']),
    instance_id: z.string().max(64).nullish(),
    instance_type: z.string().max(64).nullish(),
    mode: Mode.nullish(),
    az: z.string().max(64).nullish(),
  }),
])
export type AgentMessage = z.infer<typeof AgentMessage>

/**
 * The exact frames of the automatic ping: the runtime answers SOCKET_PONG to SOCKET_PING without waking
 * the object (the hibernation API's auto-response), and keeps the time of the last one per socket.
 */
export const SOCKET_PING = '{"type":"ping"}'
export const SOCKET_PONG = '{"type":"pong"}'

/**
 * How often a 5.x agent sends its socket `heartbeat` when nothing changed, ms: often enough that each
 * one moves the object's offline alarm (OFFLINE_AFTER_MS, 120 s, after the last one) before it fires,
 * so a live agent's object never runs an alarm (docs/capacity.md, Liveness).
 */
export const SOCKET_HEARTBEAT_MS = 90_000

/**
 * The header of every agent API answer: the control plane's time (ISO 8601), against which the agent
 * checks a command's `expires_at` (agent/src/link/server-clock.ts).
 */
export const SERVER_TIME_HEADER = 'x-server-time'

/** The steps of a stateful switch (or of a notice's drain), in the order the agent runs them. */
export const SWITCH_STEP_NAMES = [
  'deregister_targets',
  'pre_switch_hook',
  'stop_unit',
  'snapshot_volumes',
  'create_volumes',
  'detach_volumes',
  'attach_volumes',
  'move_interface',
  'new_interface',
  'register_targets',
  'post_switch_hook',
] as const
export type SwitchStepName = (typeof SWITCH_STEP_NAMES)[number]

/**
 * How a data volume reached the new instance: `moved` (detached and attached, same AZ),
 * `from_snapshot` (a snapshot taken during the switch, another AZ), `reattached` (it survived an
 * interruption, same AZ), `restored` (from the newest rolling snapshot).
 */
export const VOLUME_MOVES = ['moved', 'from_snapshot', 'reattached', 'restored'] as const
export type VolumeMove = (typeof VOLUME_MOVES)[number]

/** The states of an EBS snapshot as the agent reports its rolling snapshots. */
export const SNAPSHOT_STATES = ['pending', 'completed', 'error'] as const

const isoTime = z.iso.datetime({ offset: true })
const volumeId = z.string().regex(/^vol-[0-9a-f]{8,17}$/, 'expected an EBS volume id')
const privateIp = z.union([z.ipv4(), z.ipv6()])

/** One timed step; `ms` its duration, `detail` what the agent logged of it (a hook's output, an error). */
export const SwitchStep = z.object({
  name: z.enum(SWITCH_STEP_NAMES),
  started_at: isoTime,
  ms: z.number().int().min(0).max(86_400_000),
  ok: z.boolean(),
  detail: z.string().max(1000).nullish(),
})
export type SwitchStep = z.infer<typeof SwitchStep>

/**
 * The `stateful` object of a stateful agent's switch report (absent for a stateless agent).
 * `data_loss_bound_seconds`: at most this much of the last writes is lost (0: none, the workload was
 * drained or its volumes survived; null: not known). `address`: the managed interface's private IP
 * before and after (`changed` across AZs), null without one.
 */
export const StatefulSwitchReport = z.object({
  steps: z.array(SwitchStep).max(32),
  downtime_ms: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400_000)
    .nullish(),
  data_loss_bound_seconds: z.number().min(0).max(1e9).nullable(),
  address: z
    .object({
      eni_id: z.string().regex(/^eni-[0-9a-f]{8,17}$/, 'expected a network interface id'),
      old_private_ip: privateIp,
      new_private_ip: privateIp,
      changed: z.boolean(),
    })
    .nullable(),
  volumes: z
    .array(
      z.object({
        device: z.string().min(1).max(64),
        old_volume_id: volumeId,
        new_volume_id: volumeId,
        how: z.enum(VOLUME_MOVES),
      }),
    )
    .max(32),
})
export type StatefulSwitchReport = z.infer<typeof StatefulSwitchReport>
