/**
 * The installed Python agent (4.0.0, or 3.2.0) on a simulated instance, acting on the fake EC2 as the
 * real one does (docs/agent-api.md, "How the installed agents behave"): its identity from IMDS, EC2
 * through signed Query API calls with the instance role's credentials, the bodies of
 * `test/fixtures/legacy-agent-bodies/`, its cadence (scaled by the simulation's speed), any non-2xx
 * answer taken as "no answer". 4.0.0 launches every replica listed as `launching` from the instance's
 * ORIGINAL launch AMI, reports its real id and then `ready`; its switch launches from that AMI too and,
 * with a wait above 0, terminates its own host BEFORE it reports; on a spot interruption notice it
 * calls `create-emergency-replica` once, then `termination-imminent` once. It stops when its host is
 * gone, as the real agent dies with it. `startInstalledAgent`, `shutdown()` (SIGTERM: what runs
 * finishes, then the offline heartbeat) and `stop()` (SIGKILL) are the whole API.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { InstanceAccess, type InstanceIdentity } from './instance-access'
import { LEGACY_CADENCE, type Cadence, type Recorder } from './legacy-agent'
import { heartbeatBody, legacyBody, pricingBody, registerBody, type LegacyIdentity } from './legacy-bodies'

/** Seconds between calls of each loop (agent-api.md), before the simulation's speed-up. */
export interface InstalledCadence extends Cadence {
  interruptionCheck: number
  rebalanceCheck: number
}

export const INSTALLED_CADENCE: InstalledCadence = {
  ...LEGACY_CADENCE,
  interruptionCheck: 5,
  rebalanceCheck: 30,
}

export interface InstalledAgentOptions {
  serverUrl: string
  /** The client's token (its env file). */
  token: string
  /** The instance's IMDS and the region's EC2 endpoint. */
  imdsUrl: string
  ec2Url: string
  /** The Price List endpoint: the on-demand price it reports is read there (else `onDemandPrice`). */
  pricingUrl?: string
  version?: '4.0.0' | '3.2.0'
  /** LOGICAL_AGENT_ID of its env file; without it the agent registers under its instance id. */
  logicalAgentId?: string
  /** Simulated seconds per real second: the cadence runs this much faster (default 1). */
  speed?: number
  /** The simulation's time, epoch ms (what the agent stamps and how it reads IMDS times). */
  now?: () => number
  cadence?: Partial<InstalledCadence>
  /** The on-demand price it reports when it has no `pricingUrl` (default $0.0416, t3.medium in us-east-1). */
  onDemandPrice?: number
  /** Whether its host still runs, shutting down included (default: EC2 is asked at each heartbeat). */
  alive?: (instanceId: string) => boolean
  recorder?: Recorder
  /** Called once per command it runs (before it reports), so a test can count duplicates. */
  onExecute?: (commandId: string) => void
}

interface Command {
  id: string
  priority?: number
  command_type?: string
  target_mode?: string | null
  target_pool_id?: string | null
  terminate_wait_seconds?: number | null
}

/** Starts the agent on the instance behind `imdsUrl`: identity, then registration, then its loops. */
export async function startInstalledAgent(options: InstalledAgentOptions): Promise<InstalledAgent> {
  const probe = new InstanceAccess(options, 'us-east-1')
  const self = await probe.identity()
  probe.close()
  const agent = new InstalledAgent(options, self)
  agent.start()
  return agent
}

export class InstalledAgent {
  agentId: string | null = null
  /** Ids of the commands it ran, in order. */
  readonly executedCommands: string[] = []
  /** Instances it launched (replicas and switches), in order. */
  readonly launched: string[] = []
  /** Set once it stopped: `stopped` (by the test), `host gone`, or `switched away` (its host terminated). */
  endedBecause: string | null = null
  /** Resolves with `endedBecause` once every loop ended. */
  readonly ended: Promise<string>
  readonly legacy: LegacyIdentity
  private readonly ec2: InstanceAccess
  private readonly cadence: InstalledCadence
  private readonly speed: number
  private readonly now: () => number
  /** SIGKILL: everything stops at once. */
  private readonly abort = new AbortController()
  /** SIGTERM: its loops start nothing new; a command or a call under way finishes. */
  private readonly winding = new AbortController()
  private readonly loops: Promise<void>[] = []
  private markEnded!: (reason: string) => void
  private onDemand: number | null = null
  private noticeSeen = false
  private rebalanceSeen: string | null = null

  constructor(
    private readonly options: InstalledAgentOptions,
    readonly self: InstanceIdentity,
  ) {
    this.ec2 = new InstanceAccess({ ...options, signal: this.abort.signal }, self.region)
    this.ended = new Promise((resolve) => (this.markEnded = resolve))
    this.cadence = { ...INSTALLED_CADENCE, ...options.cadence }
    this.speed = options.speed ?? 1
    this.now = options.now ?? Date.now
    this.legacy = {
      version: options.version ?? '4.0.0',
      token: options.token,
      logicalAgentId: options.logicalAgentId ?? self.instanceId,
      instanceId: self.instanceId,
      instanceType: self.instanceType,
      region: self.region,
      az: self.az,
      mode: self.mode,
    }
  }

  start(): void {
    this.loops.push(this.run())
  }

  /** Stops every loop (as `kill -9` would: no offline heartbeat). */
  async stop(reason = 'stopped'): Promise<void> {
    this.endedBecause ??= reason
    this.abort.abort()
    await Promise.allSettled(this.loops)
    this.ec2.close()
    this.markEnded(this.endedBecause)
  }

  /**
   * SIGTERM, as systemd sends it at shutdown: the loops start nothing new, what is under way (a
   * switch, a replica launch, a call) finishes, then it says it goes offline and exits.
   */
  async shutdown(): Promise<void> {
    this.winding.abort()
    // Loops still being started by the registration are in the list once it returns.
    await Promise.allSettled(this.loops)
    await Promise.allSettled(this.loops)
    if (this.agentId && !this.abort.signal.aborted)
      await this.call(
        'POST',
        `/api/agents/${this.agentId}/heartbeat`,
        'heartbeat',
        legacyBody('heartbeat-offline.json'),
      )
    await this.stop('shut down')
  }

  private get is4(): boolean {
    return this.legacy.version === '4.0.0'
  }

  private async run(): Promise<void> {
    while (!(await this.register()))
      if (!(await this.sleep(this.cadence.registerRetry, this.winding.signal))) return
    if (this.winding.signal.aborted) return
    const every = (seconds: number, work: () => Promise<unknown>) =>
      this.loops.push(
        (async () => {
          do await work().catch(() => undefined)
          while (await this.sleep(seconds, this.winding.signal))
        })(),
      )
    every(this.cadence.heartbeat, () => this.heartbeat())
    every(this.cadence.pendingCommands, () => this.pollCommands())
    every(this.cadence.config, () => this.call('GET', `/api/agents/${this.agentId}/config`, 'config'))
    every(this.cadence.pricing, () => this.reportPrices())
    if (this.is4) every(this.cadence.replicaPoll, () => this.launchListedReplicas())
    if (this.is4 && this.self.mode === 'spot') {
      every(this.cadence.interruptionCheck, () => this.checkInterruption())
      every(this.cadence.rebalanceCheck, () => this.checkRebalance())
    }
  }

  private async register(): Promise<boolean> {
    const answer = await this.call('POST', '/api/agents/register', 'register', {
      ...registerBody(this.legacy),
      ami_id: this.self.amiId,
      private_ip: this.self.privateIp,
      public_ip: this.self.publicIp,
    })
    const agentId = (answer as { agent_id?: unknown } | null)?.agent_id
    if (typeof agentId !== 'string') return false
    this.agentId = agentId
    return true
  }

  private async heartbeat(): Promise<void> {
    const alive = this.options.alive
      ? this.options.alive(this.self.instanceId)
      : !['terminated', 'stopped'].includes((await this.ec2.stateOf(this.self.instanceId)) ?? 'terminated')
    if (!alive) return void this.stop('host gone')
    await this.call('POST', `/api/agents/${this.agentId}/heartbeat`, 'heartbeat', heartbeatBody(this.legacy))
  }

  private async reportPrices(): Promise<void> {
    const spot = await this.ec2.spotPrices(this.self.instanceType)
    const body = pricingBody(this.legacy, spot, await this.onDemandPrice())
    await this.call('POST', `/api/agents/${this.agentId}/pricing-report`, 'pricing-report', body)
  }

  /** At most one command per poll; a switch without target_mode is skipped. */
  private async pollCommands(): Promise<void> {
    const answer = await this.call('GET', `/api/agents/${this.agentId}/pending-commands`, 'pending-commands')
    const command = (Array.isArray(answer) ? answer[0] : undefined) as Command | undefined
    if (!command) return
    const type = command.command_type ?? 'switch'
    if (type === 'switch') {
      if (command.target_mode) await this.switchTo(command)
      return
    }
    await this.executed(command.id)
  }

  /** Launches from the launch AMI, and with a wait above 0 terminates its own host before it reports. */
  private async switchTo(command: Command): Promise<void> {
    const started = this.now()
    const toSpot = command.target_mode === 'spot' && !!command.target_pool_id
    const az = toSpot
      ? command.target_pool_id!.slice(command.target_pool_id!.lastIndexOf('.') + 1)
      : this.self.az
    const mode = toSpot ? 'spot' : 'ondemand'
    const instanceId = await this.ec2.launch(this.self, { instanceType: this.self.instanceType, az, mode })
    this.launched.push(instanceId)
    await this.waitRunning(instanceId)
    const ready = this.now()
    const wait = command.terminate_wait_seconds ?? 0
    if (wait > 0) {
      if (!(await this.sleep(wait))) return
      await this.ec2.terminate(this.self.instanceId)
    }
    const spot = await this.ec2.spotPrices(this.self.instanceType).catch(() => ({}) as Record<string, number>)
    const side = (id: string, sideAz: string, sideMode: 'spot' | 'ondemand') => ({
      instance_id: id,
      instance_type: this.self.instanceType,
      region: this.self.region,
      az: sideAz,
      ami_id: this.self.amiId,
      mode: sideMode,
      pool_id: sideMode === 'spot' ? `${this.self.instanceType}.${sideAz}` : null,
    })
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
    await this.call('POST', `/api/agents/${this.agentId}/switch-report`, 'switch-report', {
      ...legacyBody('switch-report-v4.json'),
      old_instance: side(this.self.instanceId, this.self.az, this.self.mode),
      new_instance: side(instanceId, az, mode),
      prices: {
        on_demand: await this.onDemandPrice(),
        old_spot: spot[this.self.az] ?? null,
        new_spot: mode === 'spot' ? (spot[az] ?? null) : null,
      },
      timing: {
        switch_initiated_at: iso(started),
        new_instance_launched_at: iso(started),
        new_instance_ready_at: iso(ready),
        traffic_switched_at: iso(ready),
        old_instance_terminated_at: wait > 0 ? iso(this.now()) : null,
      },
      // The installed agent labels a switch by its priority.
      trigger: (command.priority ?? 0) >= 50 ? 'manual' : 'model',
      command_id: command.id,
    })
    await this.executed(command.id)
    if (wait > 0) void this.stop('switched away')
  }

  /** Every replica listed as `launching` is launched, with no record kept of what it launched. */
  private async launchListedReplicas(): Promise<void> {
    const answer = await this.call('GET', `/api/agents/${this.agentId}/replicas?status=launching`, 'replicas')
    const replicas =
      (answer as { replicas?: { id?: string; pool_id?: string; az?: string }[] } | null)?.replicas ?? []
    for (const replica of replicas) {
      if (!replica.id || !replica.az) continue
      const base = `/api/agents/${this.agentId}/replicas/${replica.id}`
      const type = replica.pool_id?.slice(0, replica.pool_id.lastIndexOf('.')) || this.self.instanceType
      let instanceId: string
      try {
        instanceId = await this.ec2.launch(this.self, {
          instanceType: type,
          az: replica.az,
          mode: 'spot',
          tags: {
            ReplicaId: replica.id,
            ReplicaType: 'emergency',
            ParentInstance: this.self.instanceId,
            ManagedBy: 'SpotOptimizer',
          },
        })
      } catch (err) {
        await this.call('POST', `${base}/status`, 'replica-status', {
          ...legacyBody('replica-status-failed-v4.json'),
          error_message: `An error occurred when calling the RunInstances operation: ${(err as Error).message}`,
        })
        continue
      }
      this.launched.push(instanceId)
      await this.call('PUT', base, 'replica-put', {
        ...legacyBody('replica-put-instance-v4.json'),
        instance_id: instanceId,
      })
      if (!(await this.waitRunning(instanceId))) continue
      await this.call('POST', `${base}/status`, 'replica-status', {
        ...legacyBody('replica-status-ready-v4.json'),
        sync_completed_at: new Date(this.now()).toISOString(),
      })
    }
  }

  /** The type's on-demand price, from the Price List once it answered (it changes a few times a year). */
  private async onDemandPrice(): Promise<number> {
    if (this.options.pricingUrl && this.onDemand === null)
      this.onDemand = await this.ec2.onDemandPrice(this.self.instanceType).catch(() => null)
    return this.onDemand ?? this.options.onDemandPrice ?? 0.0416
  }

  /** `create-emergency-replica` once, then `termination-imminent` once, per notice. */
  private async checkInterruption(): Promise<void> {
    if (this.noticeSeen) return
    const notice = await this.ec2.instanceAction()
    if (!notice) return
    this.noticeSeen = true
    const detectedAt = new Date(this.now()).toISOString()
    await this.call(
      'POST',
      `/api/agents/${this.agentId}/create-emergency-replica`,
      'create-emergency-replica',
      {
        ...legacyBody('create-emergency-replica-termination-v4.json'),
        instance_id: this.self.instanceId,
        termination_time: notice.time,
      },
    )
    await this.call('POST', `/api/agents/${this.agentId}/termination-imminent`, 'termination-imminent', {
      ...legacyBody('termination-imminent-v4.json'),
      instance_id: this.self.instanceId,
      termination_time: notice.time,
      detected_at: detectedAt,
    })
  }

  /** `create-emergency-replica` then `rebalance-recommendation`, once per appearance. */
  private async checkRebalance(): Promise<void> {
    const noticeTime = await this.ec2.rebalance()
    if (!noticeTime || noticeTime === this.rebalanceSeen) return
    this.rebalanceSeen = noticeTime
    await this.call(
      'POST',
      `/api/agents/${this.agentId}/create-emergency-replica`,
      'create-emergency-replica',
      {
        ...legacyBody('create-emergency-replica-rebalance-v4.json'),
        instance_id: this.self.instanceId,
      },
    )
    await this.call(
      'POST',
      `/api/agents/${this.agentId}/rebalance-recommendation`,
      'rebalance-recommendation',
      {
        ...legacyBody('rebalance-recommendation-v4.json'),
        instance_id: this.self.instanceId,
        detected_at: new Date(this.now()).toISOString(),
      },
    )
  }

  private async executed(commandId: string): Promise<void> {
    this.executedCommands.push(commandId)
    this.options.onExecute?.(commandId)
    if (this.is4) {
      await this.call(
        'POST',
        `/api/agents/${this.agentId}/commands/${commandId}/executed`,
        'executed',
        legacyBody('executed-v4.json'),
      )
    } else {
      await this.call('POST', `/api/agents/${this.agentId}/mark-command-executed`, 'mark-command-executed', {
        command_id: commandId,
      })
    }
  }

  /** Polls EC2 every 5 s (simulated) for up to 5 minutes; whether it ran. */
  private async waitRunning(instanceId: string): Promise<boolean> {
    for (let waited = 0; waited <= 300; waited += 5) {
      const state = await this.ec2.stateOf(instanceId).catch(() => null)
      if (state === 'running') return true
      if (state === 'terminated' || state === 'shutting-down') return false
      if (!(await this.sleep(5))) return false
    }
    return false
  }

  /** One call; any non-2xx or a 30 s timeout is "no answer" (null), as the installed agent treats it. */
  private async call(method: string, path: string, route: string, body?: unknown): Promise<unknown> {
    const started = performance.now()
    let status = 0
    // A timer of its own: Node 20 loses an AbortSignal.timeout inside AbortSignal.any to the garbage
    // collector, and then a call the control plane never answers waits forever, not 30 s.
    const timeout = new AbortController()
    const timer = setTimeout(() => timeout.abort(), 30_000)
    try {
      const response = await fetch(`${this.options.serverUrl}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${this.legacy.token}`,
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.any([timeout.signal, this.abort.signal]),
      })
      status = response.status
      const text = await response.text()
      return response.ok && text ? (JSON.parse(text) as unknown) : null
    } catch {
      return null
    } finally {
      clearTimeout(timer)
      this.options.recorder?.record(route, performance.now() - started, status)
    }
  }

  /**
   * Sleeps `seconds` of simulated time; false once stopped. A loop's pause also ends at `until` (the
   * SIGTERM); a command's own waits do not.
   */
  private async sleep(seconds: number, until?: AbortSignal): Promise<boolean> {
    const signal = until ? AbortSignal.any([this.abort.signal, until]) : this.abort.signal
    if (signal.aborted) return false
    await delay((seconds * 1000) / this.speed, undefined, { signal }).catch(() => undefined)
    return !signal.aborted
  }
}
