/**
 * Installed 4.0.0 agents in the soak: the workloads named here run an emulation of the installed agent
 * instead of the 5.x bundle, on every running instance of theirs (as the installed unit starts at boot).
 * The emulation must act on the fake EC2 as the real 4.0.0 agent does (launch real instances, never
 * invent ids): `test/emulators/` is getting one. Until it lands no driver is registered and the soak runs
 * 5.x agents only (`--legacy 0`, the default); plug it in by setting LEGACY_DRIVER.
 */
import type { HostInstance } from '../fleet/agents'

/** What an installed agent needs to run against the simulated region and the control plane. */
export interface LegacyHost {
  instanceId: string
  logicalAgentId: string
  imdsUrl: string
  serverUrl: string
  token: string
  region: string
  ec2Url: string
  /** `<origin>x<speed>`: the one simulated clock. */
  clockSpec: string
}

export interface LegacyAgentHandle {
  /** SIGKILL-like: stops at once, no goodbye; the soak starts it again as systemd would. */
  kill(): Promise<void>
  stop(): Promise<void>
}

export interface LegacyAgentDriver {
  start(host: LegacyHost): LegacyAgentHandle
}

/** The 4.0.0 emulation acting on the fake EC2; null until test/emulators/ has one. */
export const LEGACY_DRIVER: LegacyAgentDriver | null = null

/** Runs the driver's agent on every running instance of the legacy workloads, and only there. */
export class LegacyFleet {
  private readonly running = new Map<string, LegacyAgentHandle>()

  constructor(
    private readonly driver: LegacyAgentDriver,
    private readonly workloads: ReadonlySet<string>,
    private readonly hostOf: (host: HostInstance) => LegacyHost,
  ) {}

  /** Whether the 5.x bundle may run on this host (not on a legacy workload). */
  runsBundle = (host: HostInstance): boolean => !this.workloads.has(host.tags.LogicalAgentId ?? '')

  async reconcile(hosts: readonly HostInstance[]): Promise<void> {
    const wanted = hosts.filter((h) => h.state === 'running' && h.imdsUrl && !this.runsBundle(h))
    const ids = new Set(wanted.map((h) => h.instanceId))
    for (const [instanceId, handle] of this.running) {
      if (ids.has(instanceId)) continue
      this.running.delete(instanceId)
      await handle.stop()
    }
    for (const host of wanted)
      if (!this.running.has(host.instanceId))
        this.running.set(host.instanceId, this.driver.start(this.hostOf(host)))
  }

  /** Kills the agent of an instance and starts it again (a crash and systemd's restart). */
  async kill(instanceId: string, host: HostInstance): Promise<boolean> {
    const handle = this.running.get(instanceId)
    if (!handle) return false
    await handle.kill()
    this.running.set(instanceId, this.driver.start(this.hostOf(host)))
    return true
  }

  async stop(): Promise<void> {
    await Promise.all([...this.running.values()].map((h) => h.stop()))
    this.running.clear()
  }
}
