/**
 * `npm run bench:control-plane`: its own wrangler dev (through wrangler's API: inspector and file
 * watcher off; free ports, own state, D1 meter on), a client made through the admin API, agents
 * registered through the agent API; prints and writes bench/results/control-plane.json:
 * - command delivery latency from the force-switch call to the WebSocket client's receipt (p50/p99
 *   over 200 commands), and what 15-second polling gives;
 * - heartbeats in open loop, 500/s offered by 200 agents for 60 s: rate achieved, p99, errors; and the
 *   closed-loop ceiling on this machine (a no-op route, GET /health, a heartbeat); both through
 *   wrangler dev's proxy (`heartbeat_*`, `wrangler_dev_ceiling_rps`) and against the workerd runtime
 *   directly (`heartbeat_runtime_*`, `runtime_ceiling_rps`), to separate the proxy's cost;
 * - D1 rows written per agent-hour at the installed agents' cadence (sum of D1's meta.rows_written);
 * - `heartbeat_cost_vs_noop`: workerd CPU of one HTTP heartbeat over that of a no-op route, same run,
 *   at one heartbeat per agent every 30 s of a simulated clock in a Worker of its own
 *   (control-plane/heartbeat-cost.ts names the route), CPU per request of the probes that say where
 *   it goes (`heartbeat_cost_profile_cpu_ms`), and what its window held per heartbeat
 *   (`heartbeat_cost_cadence`: alarms set and rung, D1 rows, object calls);
 * - socket heartbeats in open loop, 200/s offered over 200 sockets: `socket_heartbeat_rps` and p99
 *   (`socket_heartbeat_measured` says whether heartbeats, or pings in their stead, were answered).
 * Parts may be named (`npm run bench:control-plane -- heartbeat-cost socket-heartbeats`): only those
 * run and their figures replace theirs in the last control-plane.json. BENCH_D1_WINDOW_SECONDS shortens
 * the D1 window (default 300) and BENCH_HEARTBEAT_SECONDS the heartbeat runs (default 60).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../scripts/fleet/control-plane'
import { newClientToken, registerAgents, sayOffline, type SimAgent } from './control-plane/agents'
import { measureRowsWritten } from './control-plane/d1-rows'
import { measurePolling, measurePush } from './control-plane/delivery'
import { measureCeiling, type Ceiling } from './control-plane/ceiling'
import { offerHeartbeats, type HeartbeatLoad } from './control-plane/heartbeats'
import { measureHeartbeatCost, NO_OP_ROUTE } from './control-plane/heartbeat-cost'
import { offerSocketHeartbeats } from './control-plane/socket-heartbeats'
import { startBenchServer } from './control-plane/server'
import { percentile, round } from './control-plane/stats'
import { machineLine } from './machine'

const TARGETS = {
  deliveryP99Ms: 250,
  heartbeatRps: 500,
  heartbeatP99Ms: 100,
  rowsPerAgentHour: 30,
  heartbeatCostVsNoop: 1.5,
  socketHeartbeatP99Ms: 100,
}
const PARTS = ['d1', 'delivery', 'heartbeats', 'heartbeat-cost', 'socket-heartbeats'] as const
type Part = (typeof PARTS)[number]
const named = process.argv.slice(2)
const unknownParts = named.filter((n) => !(PARTS as readonly string[]).includes(n))
if (unknownParts.length)
  throw new Error(`unknown part ${unknownParts.join(', ')}: one of ${PARTS.join(', ')}`)
const runs = (part: Part) => named.length === 0 || named.includes(part)
const RESULTS_FILE = join(ROOT, 'bench', 'results', 'control-plane.json')
const d1WindowSeconds = Number(process.env.BENCH_D1_WINDOW_SECONDS ?? 300)
const heartbeatSeconds = Number(process.env.BENCH_HEARTBEAT_SECONDS ?? 60)

interface DoorRun {
  ceiling: Ceiling
  beats: HeartbeatLoad
  /** The door stopped answering GET /health after the heartbeat load. */
  died: boolean
  /** 1-minute load average just before the heartbeat load. */
  loadBefore: number
}

/** The ceiling, then a short warm-up and the open-loop heartbeat load, through one door. */
async function measureDoor(baseUrl: string, agents: readonly SimAgent[]): Promise<DoorRun> {
  const ceiling = await measureCeiling(baseUrl, agents[0]!)
  await offerHeartbeats(baseUrl, agents, 50, 2)
  const loadBefore = loadavg()[0]!
  const beats = await offerHeartbeats(baseUrl, agents, TARGETS.heartbeatRps, heartbeatSeconds)
  const died = !(await fetch(`${baseUrl}/health`)
    .then((r) => r.ok)
    .catch(() => false))
  return { ceiling, beats, died, loadBefore }
}

const metTarget = ({ beats }: DoorRun) =>
  beats.ok / beats.elapsedSeconds >= TARGETS.heartbeatRps * 0.99 &&
  percentile(beats.latencies, 99) < TARGETS.heartbeatP99Ms &&
  beats.errors === 0

// Before anything of the bench runs: its own load is part of the end figure.
const machineAtStart = machineLine()
/**
 * One door's heartbeat figures under `prefix` (`heartbeat` through wrangler's proxy, `heartbeat_runtime`
 * direct). Elapsed is first send to last answer: the rate is answers (200) per second of it.
 */
function beatFigures(prefix: string, door: DoorRun) {
  const { beats } = door
  return {
    [`${prefix}_offered_rps`]: round(beats.offered / beats.seconds),
    [`${prefix}_rps`]: round(beats.ok / beats.elapsedSeconds),
    [`${prefix}_p50_ms`]: round(percentile(beats.latencies, 50)),
    [`${prefix}_p99_ms`]: round(percentile(beats.latencies, 99)),
    [`${prefix}_errors`]: beats.errors,
    [`${prefix}_elapsed_seconds`]: round(beats.elapsedSeconds),
    [`${prefix}_error_kinds`]: beats.errorKinds,
  }
}

const server = await startBenchServer()
console.log(`control plane at ${server.url} (wrangler's proxy), runtime at ${server.runtimeUrl}`)
const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED')
/** Agents to say offline at the end, so that their objects' alarms write nothing later. */
const registered: SimAgent[] = []
let figures: Record<string, unknown> = {}
try {
  if (runs('d1')) {
    // D1 first, on a quiet control plane: nothing else writes during its window.
    console.log(`D1 rows: 50 installed-cadence agents, ${d1WindowSeconds} s window (after a 65 s ramp)…`)
    const rows = await measureRowsWritten(
      server,
      await newClientToken(server, 'bench-d1'),
      50,
      d1WindowSeconds,
    )
    console.log(rows)
    figures = {
      ...figures,
      d1_rows_per_agent_hour: round(rows.rowsPerAgentHour),
      d1_rows_per_agent_hour_by_statement: rows.byStatementPerAgentHour,
      d1_rows_written_in_window: rows.rowsWritten,
      d1_window_agents: rows.agents,
      d1_window_seconds: rows.windowSeconds,
    }
    console.log(
      `D1 rows per agent-hour ${round(rows.rowsPerAgentHour)} (<= ${TARGETS.rowsPerAgentHour}): ${verdict(rows.rowsPerAgentHour <= TARGETS.rowsPerAgentHour)}`,
    )
  }

  if (runs('delivery')) {
    console.log('delivery: 200 force-switches to 20 connected agents…')
    const pushAgents = await registerAgents(server, await newClientToken(server, 'bench-push'), 20, '5.0.0')
    const push = await measurePush(server, pushAgents, 200)
    console.log('delivery by 15-second polling: 40 pollers, one force-switch each…')
    const pollAgents = await registerAgents(server, await newClientToken(server, 'bench-poll'), 40)
    const polling = await measurePolling(server, pollAgents)
    registered.push(...pushAgents, ...pollAgents)
    figures = {
      ...figures,
      delivery_p50_ms: round(percentile(push, 50)),
      delivery_p99_ms: round(percentile(push, 99)),
      delivery_samples: push.length,
      polling_delivery_p50_ms: round(percentile(polling, 50), 0),
      polling_delivery_p99_ms: round(percentile(polling, 99), 0),
      polling_samples: polling.length,
    }
    console.log(
      `delivery p99 ${round(percentile(push, 99))} ms (< ${TARGETS.deliveryP99Ms}): ${verdict(percentile(push, 99) < TARGETS.deliveryP99Ms)}`,
    )
  }

  if (runs('heartbeat-cost')) {
    console.log(
      `heartbeat cost: workerd CPU of ${NO_OP_ROUTE.method} ${NO_OP_ROUTE.path} and of heartbeats at one per agent every 30 s of a simulated clock, own Worker, runtime direct…`,
    )
    const cost = await measureHeartbeatCost()
    console.log(cost)
    figures = {
      ...figures,
      heartbeat_cost_vs_noop: round(cost.ratio, 2),
      heartbeat_cpu_ms: round(cost.heartbeatCpuMsPerRequest, 3),
      noop_cpu_ms: round(cost.noOpCpuMsPerRequest, 3),
      noop_route: `${NO_OP_ROUTE.method} ${NO_OP_ROUTE.path}`,
      heartbeat_cost_requests: cost.cadence.heartbeats,
      heartbeat_cost_profile_cpu_ms: cost.profile,
      heartbeat_cost_cadence: cost.cadence,
    }
    console.log(
      `heartbeat cost vs no-op ${round(cost.ratio, 2)} (<= ${TARGETS.heartbeatCostVsNoop}): ${verdict(cost.ratio <= TARGETS.heartbeatCostVsNoop)}`,
    )
  }

  if (runs('socket-heartbeats')) {
    const agents = await registerAgents(
      server,
      await newClientToken(server, 'bench-socket-heartbeat'),
      200,
      '5.0.0',
    )
    registered.push(...agents)
    console.log(
      `socket heartbeats: 200/s offered over 200 sockets for ${heartbeatSeconds} s, runtime direct…`,
    )
    const load = await offerSocketHeartbeats(server.runtimeUrl, agents, 200, heartbeatSeconds)
    const rps = load.answered / load.seconds
    figures = {
      ...figures,
      socket_heartbeat_measured: load.measured,
      socket_heartbeat_offered_rps: round(load.offered / load.seconds),
      socket_heartbeat_rps: load.measured === 'nothing answered' ? null : round(rps),
      socket_heartbeat_p50_ms:
        load.measured === 'nothing answered' ? null : round(percentile(load.latencies, 50)),
      socket_heartbeat_p99_ms:
        load.measured === 'nothing answered' ? null : round(percentile(load.latencies, 99)),
      socket_heartbeat_unanswered: load.unanswered,
    }
    console.log(
      `socket ${load.measured}: ${round(rps)}/s answered of ${round(load.offered / load.seconds)}/s offered, p99 ${round(percentile(load.latencies, 99))} ms (<= ${TARGETS.socketHeartbeatP99Ms}), ${load.unanswered} unanswered`,
    )
  }

  if (runs('heartbeats')) {
    const beatAgents = await registerAgents(server, await newClientToken(server, 'bench-heartbeat'), 200)
    registered.push(...beatAgents)
    console.log(
      `through wrangler's proxy: ceiling (closed loop), then 500/s offered by 200 agents for ${heartbeatSeconds} s…`,
    )
    const proxy = await measureDoor(server.url, beatAgents)
    console.log(proxy.ceiling)
    console.log(
      `against the runtime directly: ceiling (closed loop), then 500/s offered for ${heartbeatSeconds} s…`,
    )
    const runtime = await measureDoor(server.runtimeUrl, beatAgents)
    console.log(runtime.ceiling)
    if (proxy.died) registered.length = 0
    figures = {
      ...figures,
      ...beatFigures('heartbeat', proxy),
      /** Closed-loop requests/s through wrangler dev's proxy: a no-op route, GET /health, a heartbeat. */
      wrangler_dev_ceiling_rps: proxy.ceiling,
      /** wrangler dev's proxy stopped answering after the heartbeat load. */
      server_died_under_heartbeat_load: proxy.died,
      ...beatFigures('heartbeat_runtime', runtime),
      /** Closed-loop requests/s against the workerd runtime directly (no wrangler proxy). */
      runtime_ceiling_rps: runtime.ceiling,
      runtime_died_under_heartbeat_load: runtime.died,
      heartbeat_target_met: { wrangler_proxy: metTarget(proxy), runtime_direct: metTarget(runtime) },
      heartbeat_load_average_1m_before: {
        wrangler_proxy: round(proxy.loadBefore),
        runtime_direct: round(runtime.loadBefore),
      },
      heartbeat_seconds: heartbeatSeconds,
      dev_server:
        "wrangler dev started through wrangler's API (unstable_DevEnv), inspector off, file watcher off; heartbeat_* and wrangler_dev_ceiling_rps through wrangler's proxy, heartbeat_runtime_* and runtime_ceiling_rps against the workerd runtime directly",
    }
    for (const [door, run] of [
      ["wrangler's proxy", proxy],
      ['runtime direct', runtime],
    ] as const) {
      console.log(
        `heartbeats (${door}, inspector off) ${round(run.beats.ok / run.beats.elapsedSeconds)}/s of ${round(run.beats.offered / run.beats.seconds)}/s offered, p99 ${round(percentile(run.beats.latencies, 99))} ms, ${run.beats.errors} errors: ${verdict(metTarget(run))}`,
      )
    }
  }
  await sayOffline(server, registered)

  const last =
    named.length && existsSync(RESULTS_FILE)
      ? (JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>)
      : {}
  const results = {
    ...last,
    ...figures,
    machine: `${machineAtStart}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(
        ' ',
      )} at the end; wrangler dev (workerd, local D1, inspector off), load generator on the same machine${named.length ? ` (parts ${named.join(', ')} re-measured)` : ''}`,
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`)
  console.log(results)
} finally {
  await server.stop()
}
