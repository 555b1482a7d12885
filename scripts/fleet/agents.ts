/**
 * The simulated instances' init system: on every running instance it starts each agent unit enabled
 * on that instance's disk, through the launcher of that unit (launcher.ts), exactly as systemd would
 * at boot: replicas included, with the disk's own env file and state, nothing injected but what
 * stands in for AWS. An agent whose instance stops running is stopped (SIGTERM, as at shutdown); one
 * that exited is restarted after a pause when its unit's Restart= says so (exit 0 under on-failure
 * means it stopped for good: retired, uninstalled, an ended replica).
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { enabledUnits, type AgentHandle, type AgentLauncher, type RestartPolicy } from './launcher'

/** One instance of the simulated region, as the supervisor needs it. */
export interface HostInstance {
  instanceId: string
  state: string
  tags: Record<string, string>
  /** Its fake IMDS (null while it has none). */
  imdsUrl: string | null
  /** Its root file system (null: it carries no files). */
  disk: string | null
}

export interface AgentSupervisorOptions {
  /** One per kind of agent, by the unit that runs it. */
  launchers: AgentLauncher[]
  region: string
  ec2Url: string
  pricingUrl: string
  /** The region's ELBv2, when it has one. */
  elbv2Url?: string
  /** The simulated clock's spec (`<origin>x<speed>`); null on real time. */
  simClock: string | null
  /** Each instance's agent logs go under `<logDir>/agents/<instance id>/`. */
  logDir: string
  /** Pause before an agent that exited is started again, as RestartSec (ms). */
  restartDelayMs?: number
}

export interface RunningAgent {
  /** The instance's LogicalAgentId tag (for display: the agent finds its identity itself). */
  logicalAgentId: string | null
  instanceId: string
  unit: string
  pid: number | null
  startedAt: number
  restarts: number
}

interface Slot {
  instance: HostInstance
  launcher: AgentLauncher
  handle: AgentHandle
  startedAt: number
  restarts: number
  /** Set when the agent exited and will be restarted: not before this time. */
  restartAfter: number | null
  /** Once it exited: its code (null: killed by a signal). */
  exit: { code: number | null } | null
}

/** Whether an instance is up with the services an agent needs (a running instance has its IMDS). */
export function isBooted(instance: HostInstance): boolean {
  return instance.state === 'running' && !!instance.imdsUrl && !!instance.disk && existsSync(instance.disk)
}

export class AgentSupervisor {
  /** By `<instance id>/<unit>`. */
  private readonly slots = new Map<string, Slot>()
  private readonly launchers: Map<string, AgentLauncher>
  private stopped = false

  constructor(private readonly options: AgentSupervisorOptions) {
    this.launchers = new Map(options.launchers.map((l) => [l.unit, l]))
  }

  /** Starts, restarts and stops agents so that they match the instances and their disks. */
  async reconcile(instances: HostInstance[], now = Date.now()): Promise<void> {
    if (this.stopped) return
    const wanted = new Map<string, { instance: HostInstance; launcher: AgentLauncher }>()
    for (const instance of instances.filter(isBooted)) {
      for (const unit of enabledUnits(instance.disk!)) {
        const launcher = this.launchers.get(unit)
        if (launcher) wanted.set(`${instance.instanceId}/${unit}`, { instance, launcher })
      }
    }
    for (const [key, slot] of this.slots) {
      if (wanted.has(key)) continue
      this.slots.delete(key)
      await slot.handle.stop()
    }
    // Stopped while an agent above was stopping: an agent started now would outlive the fleet.
    if (this.stopped) return
    for (const [key, { instance, launcher }] of wanted) {
      const slot = this.slots.get(key)
      if (!slot) this.slots.set(key, this.start(instance, launcher, 0, now))
      else if (slot.exit && restarts(slot.handle.restart, slot.exit.code)) {
        if (slot.restartAfter === null) slot.restartAfter = now + (this.options.restartDelayMs ?? 2_000)
        else if (now >= slot.restartAfter)
          this.slots.set(key, this.start(instance, launcher, slot.restarts + 1, now))
      }
    }
  }

  /** The live agents. */
  running(): RunningAgent[] {
    return [...this.slots.values()]
      .filter((slot) => !slot.handle.hasExited())
      .map((slot) => ({
        logicalAgentId: slot.instance.tags.LogicalAgentId ?? null,
        instanceId: slot.instance.instanceId,
        unit: slot.launcher.unit,
        pid: slot.handle.pid,
        startedAt: slot.startedAt,
        restarts: slot.restarts,
      }))
  }

  /** SIGKILLs the agents of an instance (a crash); the next reconcile after the pause restarts them. */
  async kill(instanceId: string): Promise<void> {
    await Promise.all(
      [...this.slots.values()]
        .filter((s) => s.instance.instanceId === instanceId)
        .map((s) => s.handle.kill()),
    )
  }

  /** Stops every agent (SIGTERM, so each sends its offline heartbeat). */
  async stop(): Promise<void> {
    this.stopped = true
    await Promise.all([...this.slots.values()].map((slot) => slot.handle.stop()))
    this.slots.clear()
  }

  /** The directory holding an instance's agent logs. */
  instanceDir(instanceId: string): string {
    return join(this.options.logDir, 'agents', instanceId)
  }

  private start(instance: HostInstance, launcher: AgentLauncher, restarts: number, now: number): Slot {
    const dir = this.instanceDir(instance.instanceId)
    mkdirSync(dir, { recursive: true })
    const logFile = join(dir, launcher.logName)
    let handle: AgentHandle
    try {
      handle = launcher.start({
        instanceId: instance.instanceId,
        disk: instance.disk!,
        imdsUrl: instance.imdsUrl!,
        ec2Url: this.options.ec2Url,
        pricingUrl: this.options.pricingUrl,
        elbv2Url: this.options.elbv2Url,
        region: this.options.region,
        simClock: this.options.simClock,
        logFile,
      })
    } catch (err) {
      // A unit that cannot start (a file of it missing on the disk) fails as systemd's would, and is retried.
      appendFileSync(
        logFile,
        `${launcher.unit} failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
      )
      handle = failedStart()
    }
    const slot: Slot = {
      instance,
      launcher,
      handle,
      startedAt: now,
      restarts,
      restartAfter: null,
      exit: null,
    }
    void handle.exited.then((code) => (slot.exit = { code }))
    return slot
  }
}

/** Whether systemd starts an agent that exited with `code` again (Restart=, RestartPreventExitStatus=). */
function restarts({ when, prevent }: RestartPolicy, code: number | null): boolean {
  if (when === 'no' || (code !== null && prevent.includes(code))) return false
  return when === 'always' || code !== 0
}

/** The handle of an agent that could not start: exited at once with a failure. */
function failedStart(): AgentHandle {
  return {
    pid: null,
    exited: Promise.resolve(1),
    hasExited: () => true,
    stop: async () => {},
    kill: async () => {},
    restart: { when: 'on-failure', prevent: [] },
  }
}
