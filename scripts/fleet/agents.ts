/**
 * Runs the agent bundle as real processes, one per simulated instance that carries a `LogicalAgentId`
 * tag and is running (as an agent baked into the AMI would start on every instance launched from it),
 * bound to that instance's IMDS. A replica's agent starts only once its parent is gone or its parent's
 * agent retired (the replica was promoted): before that, two agents would claim one logical id.
 * A process whose instance is gone is stopped; one that failed is restarted after a pause, as
 * systemd's Restart=on-failure would (exit 0 means it retired). Each instance has its own state dir.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { startProcess, type ManagedProcess } from './processes'

/** One instance of the simulated region, as the supervisor needs it. */
export interface HostInstance {
  instanceId: string
  state: string
  tags: Record<string, string>
  /** Its fake IMDS (null while it has none). */
  imdsUrl: string | null
}

export interface AgentSupervisorOptions {
  /** Path of agent/dist/spotguard-agent.js. */
  bundle: string
  serverUrl: string
  token: string
  region: string
  ec2Url: string
  pricingUrl: string
  /** Per-instance state dirs and logs go under here. */
  stateDir: string
  /** Extra environment (intervals of agent-api.md, in seconds). */
  env?: Record<string, string>
  /** Pause before a dead agent is started again (ms). */
  restartDelayMs?: number
}

export interface RunningAgent {
  logicalAgentId: string
  instanceId: string
  pid: number
  startedAt: number
  restarts: number
}

interface Slot {
  logicalAgentId: string
  process: ManagedProcess
  startedAt: number
  restarts: number
  /** Set when the process died: not before this time is it started again. */
  restartAfter: number | null
  /** Its exit code once it exited (null: killed by a signal, or still running). */
  exitCode: number | null
}

/** Whether an agent may run on this instance at all (replicas are further held back by reconcile). */
export function canHostAgent(instance: HostInstance): boolean {
  return instance.state === 'running' && !!instance.tags.LogicalAgentId && !!instance.imdsUrl
}

export class AgentSupervisor {
  private readonly slots = new Map<string, Slot>()
  private stopped = false

  constructor(private readonly options: AgentSupervisorOptions) {}

  /** Starts, restarts and stops agent processes so that they match the instances. */
  async reconcile(instances: HostInstance[], now = Date.now()): Promise<void> {
    if (this.stopped) return
    const running = new Set(instances.filter((i) => i.state === 'running').map((i) => i.instanceId))
    const parentActive = (parent: string | undefined) => {
      if (!parent || !running.has(parent)) return false
      const slot = this.slots.get(parent)
      return !slot || slot.exitCode !== 0
    }
    const hosts = new Map(instances.filter((i) => canHostAgent(i) && !(i.tags.ReplicaId && parentActive(i.tags.ParentInstance))).map((i) => [i.instanceId, i]))
    for (const [instanceId, slot] of this.slots) {
      if (!hosts.has(instanceId)) {
        this.slots.delete(instanceId)
        await slot.process.stop()
      }
    }
    for (const [instanceId, instance] of hosts) {
      const slot = this.slots.get(instanceId)
      if (!slot) {
        this.slots.set(instanceId, this.launch(instance, 0, now))
      } else if (slot.process.hasExited() && slot.exitCode !== 0) {
        if (slot.restartAfter === null) slot.restartAfter = now + (this.options.restartDelayMs ?? 2_000)
        else if (now >= slot.restartAfter) this.slots.set(instanceId, this.launch(instance, slot.restarts + 1, now))
      }
    }
  }

  /** The live agent processes. */
  running(): RunningAgent[] {
    return [...this.slots.entries()]
      .filter(([, slot]) => !slot.process.hasExited())
      .map(([instanceId, slot]) => ({ logicalAgentId: slot.logicalAgentId, instanceId, pid: slot.process.pid, startedAt: slot.startedAt, restarts: slot.restarts }))
  }

  /** SIGKILLs the agent of an instance (a crash); the next reconcile after the pause starts it again. */
  async kill(instanceId: string): Promise<void> {
    await this.slots.get(instanceId)?.process.kill()
  }

  /** Stops every agent process (SIGTERM, so each sends its offline heartbeat). */
  async stop(): Promise<void> {
    this.stopped = true
    await Promise.all([...this.slots.values()].map((slot) => slot.process.stop()))
    this.slots.clear()
  }

  /** The directory holding an instance's agent state and log. */
  instanceDir(instanceId: string): string {
    return join(this.options.stateDir, 'agents', instanceId)
  }

  private launch(instance: HostInstance, restarts: number, now: number): Slot {
    const logicalAgentId = instance.tags.LogicalAgentId!
    const dir = this.instanceDir(instance.instanceId)
    mkdirSync(join(dir, 'state'), { recursive: true })
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SPOT_OPTIMIZER_SERVER_URL: this.options.serverUrl,
      SPOT_OPTIMIZER_CLIENT_TOKEN: this.options.token,
      LOGICAL_AGENT_ID: logicalAgentId,
      AWS_REGION: this.options.region,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: instance.imdsUrl!,
      AWS_ENDPOINT_URL_EC2: this.options.ec2Url,
      AWS_ENDPOINT_URL_PRICING: this.options.pricingUrl,
      SPOTGUARD_STATE_DIR: join(dir, 'state'),
      ...this.options.env,
    }
    const child = startProcess(`agent ${logicalAgentId}@${instance.instanceId}`, process.execPath, [this.options.bundle], {
      env,
      logFile: join(dir, 'agent.log'),
    })
    const slot: Slot = { logicalAgentId, process: child, startedAt: now, restarts, restartAfter: null, exitCode: null }
    void child.exited.then((code) => (slot.exitCode = code))
    return slot
  }
}
