/**
 * The agent's configuration, parsed once at start from the environment names of agent-api.md
 * (existing /etc/spot-optimizer/agent.env files work unchanged, the setup script's aliases included).
 */
import * as z from 'zod'

export interface Config {
  /** Origin of the control plane: agents join paths at the URL root, so a path prefix is dropped. */
  serverUrl: string
  token: string
  /** Null: the instance id stands in (agent-api.md). */
  logicalAgentId: string | null
  /** AWS_REGION as configured; IMDS wins when they disagree. */
  configuredRegion: string | null
  /** Seconds. */
  intervals: {
    heartbeat: number
    pendingCommands: number
    configRefresh: number
    pricingReport: number
    /** Interruption notices: at most 2 s, whatever the environment asks. */
    termination: number
    rebalance: number
    scheduledEvents: number
    replicas: number
    cleanup: number
    /** Spacing of two GetSpotPlacementScores requests of one configuration (placement-scores.ts). */
    placementScores: number
  }
  cleanupSnapshotsOlderThanDays: number
  cleanupAmisOlderThanDays: number
  stateDir: string
  dryRun: boolean
  /** CreateImage's NoReboot for a switch's AMI: false reboots the instance for a consistent file system. */
  amiNoReboot: boolean
  imdsEndpoint: string
  ec2Endpoint: string | null
  pricingEndpoint: string | null
  /** ELBv2 (target groups drained before a switch and on a notice). */
  elbv2Endpoint: string | null
  /** Where the pre-switch and post-switch hooks live. */
  hooksDir: string
  logLevel: 'debug' | 'info' | 'warn' | 'error'
  /** A local simulation's faster clock (SPOTGUARD_SIM_CLOCK=`<origin epoch ms>x<speed>`); null: real time. */
  simClock: { origin: number; speed: number } | null
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

/** Parses the environment; throws ConfigError naming every problem at once. */
export function loadConfig(env: Env): Config {
  const problems: string[] = []
  const read = (name: string, ...aliases: string[]) => {
    for (const key of [name, ...aliases]) {
      const value = env[key]?.trim()
      if (value) return value
    }
    return undefined
  }
  const required = (name: string, alias: string) => {
    const value = read(name, alias)
    if (!value) problems.push(`${name} is required (the alias ${alias} is accepted too)`)
    return value ?? ''
  }
  const seconds = (name: string, fallback: number) => {
    const raw = read(name)
    if (raw === undefined) return fallback
    const value = Number(raw)
    if (!Number.isFinite(value) || value <= 0) {
      problems.push(`${name} must be a positive number of seconds, got ${JSON.stringify(raw)}`)
      return fallback
    }
    return value
  }
  const url = (name: string, raw: string | undefined, origin: boolean) => {
    if (!raw) return null
    const parsed = z.url({ protocol: /^https?$/ }).safeParse(raw)
    if (!parsed.success) {
      problems.push(`${name} must be an http(s) URL, got ${JSON.stringify(raw)}`)
      return null
    }
    return origin ? new URL(raw).origin : raw.replace(/\/+$/, '')
  }

  const serverUrl = url(
    'SPOT_OPTIMIZER_SERVER_URL',
    required('SPOT_OPTIMIZER_SERVER_URL', 'CENTRAL_SERVER_URL'),
    true,
  )
  const token = required('SPOT_OPTIMIZER_CLIENT_TOKEN', 'CLIENT_TOKEN')
  const flag = (name: string, fallback: boolean) => {
    const raw = read(name)?.toLowerCase()
    if (raw === undefined) return fallback
    if (['true', '1', 'yes'].includes(raw)) return true
    if (['false', '0', 'no'].includes(raw)) return false
    problems.push(`${name} must be true or false, got ${JSON.stringify(raw)}`)
    return fallback
  }
  const logLevel = (read('SPOTGUARD_LOG_LEVEL') ?? 'info').toLowerCase()
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    problems.push(`SPOTGUARD_LOG_LEVEL must be debug, info, warn or error, got ${JSON.stringify(logLevel)}`)
  }
  const region = read('AWS_REGION')
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    problems.push(`AWS_REGION must look like us-east-1, got ${JSON.stringify(region)}`)
  }

  const simClockRaw = read('SPOTGUARD_SIM_CLOCK')
  const simClockMatch = /^(\d+)x(\d+(?:\.\d+)?)$/.exec(simClockRaw ?? '')
  if (simClockRaw !== undefined && !simClockMatch) {
    problems.push(`SPOTGUARD_SIM_CLOCK must be <origin epoch ms>x<speed>, got ${JSON.stringify(simClockRaw)}`)
  }

  const config: Config = {
    serverUrl: serverUrl ?? '',
    token,
    logicalAgentId: read('LOGICAL_AGENT_ID') ?? null,
    configuredRegion: region ?? null,
    intervals: {
      heartbeat: seconds('HEARTBEAT_INTERVAL', 30),
      pendingCommands: seconds('PENDING_COMMANDS_CHECK_INTERVAL', 15),
      configRefresh: seconds('CONFIG_REFRESH_INTERVAL', 60),
      pricingReport: seconds('PRICING_REPORT_INTERVAL', 300),
      termination: Math.min(seconds('TERMINATION_CHECK_INTERVAL', 2), 2),
      // A recommendation comes well before any notice; 5 s keeps the replica early at a sixth of the reads.
      rebalance: Math.min(seconds('REBALANCE_CHECK_INTERVAL', 30), 5),
      // Scheduled events are announced days ahead: a minute is plenty.
      scheduledEvents: 60,
      replicas: 30,
      cleanup: seconds('CLEANUP_INTERVAL', 3600),
      placementScores: seconds('PLACEMENT_SCORE_INTERVAL', 6 * 3600),
    },
    cleanupSnapshotsOlderThanDays: seconds('CLEANUP_SNAPSHOTS_OLDER_THAN_DAYS', 7),
    cleanupAmisOlderThanDays: seconds('CLEANUP_AMIS_OLDER_THAN_DAYS', 30),
    stateDir: read('SPOTGUARD_STATE_DIR') ?? '/var/lib/spotguard',
    dryRun: flag('SPOTGUARD_DRY_RUN', false),
    amiNoReboot: flag('SPOTGUARD_AMI_NO_REBOOT', true),
    imdsEndpoint:
      url('AWS_EC2_METADATA_SERVICE_ENDPOINT', read('AWS_EC2_METADATA_SERVICE_ENDPOINT'), false) ??
      'http://169.254.169.254',
    ec2Endpoint: url('AWS_ENDPOINT_URL_EC2', read('AWS_ENDPOINT_URL_EC2'), false),
    pricingEndpoint: url('AWS_ENDPOINT_URL_PRICING', read('AWS_ENDPOINT_URL_PRICING'), false),
    elbv2Endpoint: url(
      'AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2',
      read('AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2'),
      false,
    ),
    hooksDir: (read('SPOTGUARD_HOOKS_DIR') ?? '/etc/spot-optimizer/hooks').replace(/\/+$/, ''),
    logLevel: logLevel as Config['logLevel'],
    simClock: simClockMatch ? { origin: Number(simClockMatch[1]), speed: Number(simClockMatch[2]) } : null,
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}

/** The configuration with secrets masked, for --check and the start log. */
export function describeConfig(config: Config): Record<string, unknown> {
  const masked = config.token.length > 8 ? `${config.token.slice(0, 4)}…(${config.token.length} chars)` : '…'
  return { ...config, token: masked }
}
