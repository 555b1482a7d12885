/**
 * The simulated fleet against a running control plane: the simulated region, one agent process per
 * instance, the Worker's scheduled work (cron does not fire under wrangler dev) and a control API
 * for `npm run fleet -- interrupt <agent>`. One loop drives it all every 250 ms.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import type { Durations } from '../../test/fakes'
import { AgentSupervisor, type HostInstance } from './agents'
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
  /** Extra agent environment (intervals in seconds). */
  agentEnv?: Record<string, string>
  /** Whether the agent bundle runs on a host (default: every one); the soak leaves 4.0.0 workloads to their emulation. */
  runsBundle?: (host: HostInstance) => boolean
}

export interface Fleet {
  readonly region: SimRegion
  readonly supervisor: AgentSupervisor
  readonly control: ControlApi
  readonly logicalAgentIds: string[]
  /** The instance an agent's workload runs on now (its newest running non-replica or promoted one). */
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
  if (!existsSync(AGENT_BUNDLE)) execFileSync(process.execPath, [join(ROOT, 'agent', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' })
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  ensureAgentBundle()
  mkdirSync(options.stateDir, { recursive: true })
  const logicalAgentIds = Array.from({ length: options.agents }, (_, i) => `agent-${i + 1}`)
  const region = await startSimRegion({
    agents: logicalAgentIds,
    speed: options.speed,
    origin: options.origin ?? Date.now(),
    seed: options.seed ?? 42,
    signals: options.signals ?? true,
    durations: options.durations,
    lifecycle: options.lifecycle,
  })
  const supervisor = new AgentSupervisor({
    bundle: AGENT_BUNDLE,
    serverUrl: options.serverUrl,
    token: options.token,
    region: region.region,
    ec2Url: region.ec2.url,
    pricingUrl: region.pricing.url,
    stateDir: options.stateDir,
    env: { ...(options.speed === 1 ? {} : { SPOTGUARD_SIM_CLOCK: region.clock.spec }), ...options.agentEnv },
  })
  const primaryOf = (logicalAgentId: string) => {
    const candidates = region.hosts().filter((h) => h.tags.LogicalAgentId === logicalAgentId && h.state === 'running')
    const withAgent = new Set(supervisor.running().map((r) => r.instanceId))
    const pick = candidates.filter((h) => withAgent.has(h.instanceId)).at(-1) ?? candidates.filter((h) => !h.tags.ReplicaId).at(-1)
    return pick?.instanceId
  }
  const control = await startControlApi({ region, supervisor, primaryOf, logicalAgentIds })
  writeFileSync(join(options.stateDir, 'fleet.json'), `${JSON.stringify({ control: control.url, pid: process.pid }, null, 2)}\n`)

  const crons = { runs: 0, failures: 0 }
  const lastCron = new Map(CRONS.map((c) => [c.cron, region.clock.now()]))
  let busy = false
  let stopped = false
  const loop = setInterval(() => {
    if (busy || stopped) return
    busy = true
    void (async () => {
      region.tick()
      await supervisor.reconcile(options.runsBundle ? region.hosts().filter(options.runsBundle) : region.hosts())
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
