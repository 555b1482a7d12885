/**
 * The simulated fleet against a running control plane: the simulated region (each workload seeded from
 * a golden image with the agent installed), the agents its instances boot (agents.ts), the Worker's
 * scheduled work (cron does not fire under wrangler dev) and a control API for `npm run fleet --
 * interrupt <agent>`. One loop drives it all every 250 ms. docs/simulator.md says how it compares to AWS.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import type { DiskFiles, Durations } from '../../test/fakes'
import { AgentSupervisor } from './agents'
import { AGENT_UNIT, agentInstallFiles } from './golden-image'
import type { AgentLauncher } from './launcher'
import { systemdUnitLauncher } from './unit-launcher'
import { ROOT } from './control-plane'
import { startControlApi, type ControlApi } from './control-api'
import { startSimRegion, type SimRegion } from './region'

export const AGENT_BUNDLE = join(ROOT, 'agent', 'dist', 'spotguard-agent.js')

export interface FleetOptions {
  serverUrl: string
  /** The demo client's token, used by every agent. */
  token: string
  agents: number
  /** Simulated seconds per real second (1: real time). */
  speed: number
  /** Epoch ms from which the simulated clock runs (the control plane must have SIM_CLOCK = `${origin}x${speed}`). */
  origin?: number
  stateDir: string
  /** Runs one cron of wrangler.toml on the Worker (null: nothing triggers them). */
  scheduled: ((cron: string) => Promise<void>) | null
  signals?: boolean
  seed?: number
  durations?: Partial<Durations>
  lifecycle?: 'spot' | 'on-demand'
  /** More settings of the golden image's env file (intervals in seconds). */
  agentEnv?: Record<string, string>
  /**
   * What a workload's golden image carries; default: the 5.x agent installed (`agentInstallFiles`),
   * given here as `spotguard` so another install can start from it.
   */
  install?: (logicalAgentId: string, spotguard: DiskFiles) => DiskFiles
  /** Launchers of other kinds of agent (by unit), beside the 5.x agent's. */
  launchers?: AgentLauncher[]
  /** The tags of a workload's instance (default `LogicalAgentId` and `Name`). */
  workloadTags?: (logicalAgentId: string) => Record<string, string>
  /** The type every workload starts on (default t3.medium). */
  instanceType?: string
}

export interface Fleet {
  readonly region: SimRegion
  readonly supervisor: AgentSupervisor
  readonly control: ControlApi
  readonly logicalAgentIds: string[]
  /**
   * The instance a workload's traffic goes to now, as EC2 shows it: the running instance of that
   * `LogicalAgentId` holding its Elastic IP, else its newest running non-replica, else its newest.
   */
  primaryOf(logicalAgentId: string): string | undefined
  /** Crons run and their failures so far. */
  readonly crons: { runs: number; failures: number }
  stop(): Promise<void>
}

const CRONS = [
  { cron: '*/5 * * * *', everyMs: 5 * 60_000 },
  { cron: '0 * * * *', everyMs: 60 * 60_000 },
]

/** Builds the agent bundle when it is missing (wrangler's [build] makes it too). */
export function ensureAgentBundle(): void {
  if (!existsSync(AGENT_BUNDLE))
    execFileSync(process.execPath, [join(ROOT, 'agent', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' })
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  ensureAgentBundle()
  // A new region starts its ids over: disks and logs of a previous run's instances would be taken for theirs.
  for (const dir of ['disks', 'agents']) rmSync(join(options.stateDir, dir), { recursive: true, force: true })
  mkdirSync(options.stateDir, { recursive: true })
  const logicalAgentIds = Array.from({ length: options.agents }, (_, i) => `agent-${i + 1}`)
  const spotguard = agentInstallFiles({
    bundle: AGENT_BUNDLE,
    serverUrl: options.serverUrl,
    token: options.token,
    env: options.agentEnv,
  })
  const region = await startSimRegion({
    agents: logicalAgentIds,
    speed: options.speed,
    origin: options.origin ?? Date.now(),
    seed: options.seed ?? 42,
    signals: options.signals ?? true,
    durations: options.durations,
    lifecycle: options.lifecycle,
    disksDir: join(options.stateDir, 'disks'),
    install: (logicalAgentId) => options.install?.(logicalAgentId, spotguard) ?? spotguard,
    workloadTags: options.workloadTags,
    instanceType: options.instanceType,
  })
  const supervisor = new AgentSupervisor({
    launchers: [systemdUnitLauncher(AGENT_UNIT), ...(options.launchers ?? [])],
    region: region.region,
    ec2Url: region.ec2.url,
    pricingUrl: region.pricing.url,
    elbv2Url: region.elbv2.url,
    simClock: options.speed === 1 ? null : region.clock.spec,
    logDir: options.stateDir,
  })
  const primaryOf = (logicalAgentId: string) => {
    const running = [...region.ec2.state.instances.values()].filter(
      (i) => i.tags.LogicalAgentId === logicalAgentId && i.state === 'running',
    )
    const holding = new Set([...region.ec2.state.addresses.values()].map((a) => a.instanceId))
    const pick =
      running.find((i) => holding.has(i.instanceId)) ??
      running.filter((i) => !i.tags.ReplicaId).at(-1) ??
      running.at(-1)
    return pick?.instanceId
  }
  const control = await startControlApi({ region, supervisor, primaryOf, logicalAgentIds })
  writeFileSync(
    join(options.stateDir, 'fleet.json'),
    `${JSON.stringify({ control: control.url, pid: process.pid }, null, 2)}\n`,
  )

  const crons = { runs: 0, failures: 0 }
  const lastCron = new Map(CRONS.map((c) => [c.cron, region.clock.now()]))
  let busy = false
  let stopped = false
  const loop = setInterval(() => {
    if (busy || stopped) return
    busy = true
    void (async () => {
      region.tick()
      await supervisor.reconcile(region.hosts())
      if (options.scheduled) {
        for (const { cron, everyMs } of CRONS) {
          if (region.clock.now() - lastCron.get(cron)! < everyMs) continue
          lastCron.set(cron, region.clock.now())
          crons.runs++
          await options.scheduled(cron).catch(() => crons.failures++)
        }
      }
    })().finally(() => (busy = false))
  }, 250)

  return {
    region,
    supervisor,
    control,
    logicalAgentIds,
    primaryOf,
    crons,
    async stop() {
      stopped = true
      clearInterval(loop)
      await supervisor.stop()
      await control.close()
      await region.close()
    },
  }
}
