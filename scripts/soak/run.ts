/**
 * One soak: the Worker under wrangler dev (started as the tests start it: own ports and persist dir, a
 * frozen bundle, SIM_CLOCK), a client, the local fleet (simulated region, real agent processes) on the
 * same simulated clock, the seeded events of schedule.ts, and the checker every simulated hour and at
 * the end. Returns the figures of bench/results/soak.json.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { join } from 'node:path'
import { installedAgentFiles, installedAgentLauncher } from '../../test/emulators/installed-unit'
import { createClient } from '../../test/support/clients'
import { startTestWorker, type TestWorker } from '../../test/support/worker'
import { startFleet, type Fleet } from '../fleet/fleet'
import { liveGroupMembers } from '../fleet/processes'
import { AvailabilityTracker, lostWorkloads } from './availability'
import { Checkpoints } from './checkpoint'
import { SOAK_READS_VAR } from './d1-reader'
import { fireEvent, primaryOf, type EventContext } from './events'
import { duplicateLaunches } from './invariants'
import { failures, roundedLine, type SoakResult } from './report'
import { CpuMeter, cpuCores, healthMs, keptUp, noticeLatency } from './sustain'
import { buildSchedule } from './schedule'
import type { SoakLog } from './snapshot'
import { statefulCounts } from './stateful'
import { StatefulWorkloads } from './workload'

export interface SoakOptions {
  hours: number
  agents: number
  seed: number
  /** Simulated seconds per real second. */
  speed: number
  injectDivergence: boolean
  /** How many of the workloads (the last ones) run an installed 4.0.0 agent (emulated) instead of 5.x. */
  legacyAgents: number
  /** How many of the workloads (the first ones, 5.x agents) are stateful: a data volume, the stateful mode on. */
  statefulAgents: number
  /** Keep the Worker's and the fleet's state dirs (kept anyway when the run fails). */
  keepState: boolean
  say: (line: string) => void
}

const HOUR = 3_600_000
const LOOP_MS = 250
/** EC2 transitions as long as AWS takes (the fake's defaults are shorter): never kinder than AWS. */
export const AWS_LIKE_DURATIONS = {
  pendingMs: 30_000,
  statusOkMs: 120_000,
  shuttingDownMs: 60_000,
  imageMs: 300_000,
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const startedReal = Date.now()
  options.say(`starting the Worker (SIM_CLOCK ${startedReal}x${options.speed})...`)
  const worker = await startTestWorker({ SIM_CLOCK: `${startedReal}x${options.speed}`, ...SOAK_READS_VAR })
  const fleetDir = await mkdtemp(join(tmpdir(), 'spotguard-soak-fleet-'))
  let fleet: Fleet | null = null
  let keep = options.keepState
  try {
    const client = await createClient(worker.url, worker.adminToken, 'soak')
    const legacyWorkloads = new Set(
      Array.from({ length: options.legacyAgents }, (_, n) => `agent-${options.agents - n}`),
    )
    options.say(`starting the simulated region and ${options.agents} agent(s)...`)
    fleet = await startFleet({
      serverUrl: worker.url,
      token: client.token,
      agents: options.agents,
      speed: options.speed,
      origin: startedReal,
      stateDir: fleetDir,
      scheduled: (cron) => worker.scheduled(cron),
      signals: false,
      seed: options.seed,
      durations: AWS_LIKE_DURATIONS,
      // The installed 4.0.0 agent on those workloads' golden images, booted wherever they launch from them.
      launchers: [installedAgentLauncher()],
      install: (logicalAgentId, spotguard) =>
        legacyWorkloads.has(logicalAgentId) ? installedAgentFiles(spotguard, logicalAgentId) : spotguard,
    })
    const result = await drive({ options, worker, fleet, clientId: client.id })
    result.run.real_seconds = Math.round((Date.now() - startedReal) / 100) / 10
    if (keep || failures(result).length > 0) {
      keep = true
      result.run.state_dirs = [worker.stateDir, fleetDir]
    }
    return result
  } catch (error) {
    keep = true
    options.say(`state kept for a look: ${worker.stateDir} ${fleetDir}`)
    throw error
  } finally {
    await fleet?.stop()
    if (keep) await worker.halt()
    else {
      await worker.stop()
      await rm(fleetDir, { recursive: true, force: true })
    }
  }
}

interface World {
  options: SoakOptions
  worker: TestWorker
  fleet: Fleet
  clientId: string
}

/** Runs the schedule and the checks until the simulated end; answers the figures. */
async function drive(world: World): Promise<SoakResult> {
  const { options, fleet, worker } = world
  const { region } = fleet
  const start = region.clock.now()
  const end = start + options.hours * HOUR
  const schedule = buildSchedule({ ...options, zones: region.zones.length })
  const log: SoakLog = { notices: [], outages: [], stateful: {}, writes: {} }
  const tracker = new AvailabilityTracker()
  const stats = { health: [] as number[], loadMax: 0 }
  // This process serves the fake EC2 and every IMDS: a blocked event loop is simulated time they miss.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 })
  loopDelay.enable()
  const cpu = new CpuMeter()
  const startedReal = Date.now()
  let sampledAt = 0
  let background = Promise.resolve()
  const context: EventContext = {
    ...world,
    speed: options.speed,
    log,
    counts: { interruptions: 0, rebalances: 0, kills: 0, restarts: 0, capacity_errors: 0 },
    addresses: new Map(fleet.logicalAgentIds.map((w) => [w, addressOf(fleet, w)])),
    background: (work) => void (background = background.then(work)),
    restartRealSeconds: null,
    injected: null,
    say: options.say,
  }

  const stateful = new StatefulWorkloads(
    { ...world, log, primaryOf: (w) => primaryOf(context, w), say: options.say },
    fleet.logicalAgentIds.slice(0, options.statefulAgents),
  )
  stateful.seed()

  const checkpoints = new Checkpoints({
    worker,
    clientId: world.clientId,
    region,
    addresses: context.addresses,
    log,
  })
  const check = async (isFinal: boolean) => {
    const { ec2, d1, orphans } = await checkpoints.check(isFinal)
    if (log.outages.every(([, up]) => up !== null)) stats.health.push(await healthMs(worker.url))
    options.say(
      `hour ${Math.round((ec2.at - start) / HOUR)}/${options.hours}: ${checkpoints.found.size} divergence(s), ${d1.switches.length} switch(es), ${orphans.length} orphan(s), load ${loadavg()[0]!.toFixed(1)}`,
    )
  }

  let nextCheck = start + HOUR
  for (let index = 0; ;) {
    await pause(LOOP_MS)
    stats.loadMax = Math.max(stats.loadMax, loadavg()[0]!)
    if (Date.now() - sampledAt >= 2_000) {
      sampledAt = Date.now()
      cpu.sample({
        worker: liveGroupMembers(worker.pid),
        agents: fleet.supervisor.running().flatMap((r) => (r.pid === null ? [] : [r.pid])),
        soak: [process.pid],
      })
    }
    const now = region.clock.now()
    while (index < schedule.length && start + schedule[index]!.atMs <= now)
      await fireEvent(context, schedule[index++]!)
    await stateful.tick(now)
    const hosts = region.hosts()
    tracker.observe(
      now,
      new Map(
        fleet.logicalAgentIds.map((w) => [
          w,
          hosts.some((h) => h.tags.LogicalAgentId === w && h.state === 'running'),
        ]),
      ),
    )
    if (now >= Math.min(nextCheck, end)) {
      await check(now >= end)
      nextCheck += HOUR
      if (now >= end) break
    }
  }
  await background
  loopDelay.disable()
  const final = checkpoints.last!
  const lost = lostWorkloads(tracker.outagesUntil(final.ec2.at), log.notices, final.ec2.at)
  const health = [...stats.health].sort((a, b) => a - b)
  const notices = noticeLatency(log.notices, final.d1)
  const loopDelayMaxMs = Math.round(loopDelay.max / 1e6)
  const statefulFound = statefulCounts(final.d1, log)
  return {
    seed: options.seed,
    simulated_hours: options.hours,
    agents: options.agents,
    legacy_agents: options.legacyAgents,
    ...context.counts,
    switches: final.d1.switches.length,
    divergences: checkpoints.found.size,
    lost_workloads: lost.length,
    orphan_instance_hours: round(checkpoints.orphans.totalMs / HOUR, 3),
    duplicate_launches: duplicateLaunches(final.ec2),
    ledger_error_pct: round(Math.max(0, ...final.ledger.map((l) => l.errorPct)), 3),
    stateful_agents: options.statefulAgents,
    stateful_switches: statefulFound.switches,
    stateful_interruptions: statefulFound.interruptions,
    data_mismatches: [...checkpoints.found.values()].filter((d) => d.invariant === 'i').length,
    orphan_volumes: checkpoints.data.orphanVolumes.size,
    orphan_interfaces: checkpoints.data.orphanInterfaces.size,
    inject_divergence: options.injectDivergence,
    injected: context.injected,
    divergence_list: [...checkpoints.found.values()].sort((a, b) => a.time.localeCompare(b.time)),
    ledger: final.ledger.map(roundedLine),
    run: {
      speed: options.speed,
      started_at: new Date(start).toISOString(),
      real_seconds: 0,
      checks: checkpoints.count,
      worker_restart_real_seconds: context.restartRealSeconds,
      kept_up: keptUp(notices, loopDelayMaxMs),
      event_loop_delay_max_ms: loopDelayMaxMs,
      check_max_ms: checkpoints.longestMs,
      cpu_cores: cpuCores(cpu.totals(), (Date.now() - startedReal) / 1000),
      health_p50_ms: health[Math.floor(health.length / 2)] ?? null,
      health_max_ms: health.at(-1) ?? null,
      notice_to_control_plane: notices,
      agent_offline_notifications: final.d1.notifications.filter((n) => n.kind === 'agent_offline').length,
      crons: { ...fleet.crons },
      load_average_1m_max: round(stats.loadMax, 2),
      lost,
      state_dirs: [],
    },
  }
}

/** The allocation id of the Elastic IP the region seeded on a workload's first instance. */
function addressOf(fleet: Fleet, workload: string): string {
  const { ec2 } = fleet.region
  const first = [...ec2.state.instances.values()].find((i) => i.tags.LogicalAgentId === workload)
  const address = [...ec2.state.addresses.values()].find((a) => a.instanceId === first?.instanceId)
  if (!address) throw new Error(`${workload} has no Elastic IP`)
  return address.allocationId
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits
