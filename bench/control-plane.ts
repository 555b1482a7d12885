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
 * - D1 rows written per agent-hour at the installed agents' cadence (sum of D1's meta.rows_written).
 * BENCH_D1_WINDOW_SECONDS shortens the D1 window (default 300) and BENCH_HEARTBEAT_SECONDS the
 * heartbeat runs (default 60) for a quick run.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../scripts/fleet/control-plane'
import { newClientToken, registerAgents, sayOffline, type SimAgent } from './control-plane/agents'
import { measureRowsWritten } from './control-plane/d1-rows'
import { measurePolling, measurePush } from './control-plane/delivery'
import { measureCeiling, type Ceiling } from './control-plane/ceiling'
import { offerHeartbeats, type HeartbeatLoad } from './control-plane/heartbeats'
import { startBenchServer } from './control-plane/server'
import { percentile, round } from './control-plane/stats'
import { machineLine } from './machine'

const TARGETS = { deliveryP99Ms: 250, heartbeatRps: 500, heartbeatP99Ms: 100, rowsPerAgentHour: 30 }
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
try {
  // D1 first, on a quiet control plane: nothing else writes during its window.
  console.log(`D1 rows: 50 installed-cadence agents, ${d1WindowSeconds} s window (after a 65 s ramp)…`)
  const rows = await measureRowsWritten(server, await newClientToken(server, 'bench-d1'), 50, d1WindowSeconds)
  console.log(rows)

  console.log('delivery: 200 force-switches to 20 connected agents…')
  const pushToken = await newClientToken(server, 'bench-push')
  const pushAgents = await registerAgents(server, pushToken, 20, '5.0.0')
  const push = await measurePush(server, pushAgents, 200)

  console.log('delivery by 15-second polling: 40 pollers, one force-switch each…')
  const pollAgents = await registerAgents(server, await newClientToken(server, 'bench-poll'), 40)
  const polling = await measurePolling(server, pollAgents)

  const beatAgents = await registerAgents(server, await newClientToken(server, 'bench-heartbeat'), 200)
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
  if (!proxy.died) await sayOffline(server, [...pushAgents, ...pollAgents, ...beatAgents])

  const results = {
    delivery_p50_ms: round(percentile(push, 50)),
    delivery_p99_ms: round(percentile(push, 99)),
    delivery_samples: push.length,
    polling_delivery_p50_ms: round(percentile(polling, 50), 0),
    polling_delivery_p99_ms: round(percentile(polling, 99), 0),
    polling_samples: polling.length,
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
    d1_rows_per_agent_hour: round(rows.rowsPerAgentHour),
    d1_rows_per_agent_hour_by_statement: rows.byStatementPerAgentHour,
    d1_rows_written_in_window: rows.rowsWritten,
    d1_window_agents: rows.agents,
    d1_window_seconds: rows.windowSeconds,
    machine: `${machineAtStart}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(
        ' ',
      )} at the end; wrangler dev (workerd, local D1, inspector off), load generator on the same machine`,
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
  writeFileSync(join(ROOT, 'bench', 'results', 'control-plane.json'), `${JSON.stringify(results, null, 2)}\n`)
  console.log(results)
  const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED')
  console.log(
    `delivery p99 ${results.delivery_p99_ms} ms (< ${TARGETS.deliveryP99Ms}): ${verdict(results.delivery_p99_ms < TARGETS.deliveryP99Ms)}`,
  )
  for (const [door, run] of [
    ["wrangler's proxy", proxy],
    ['runtime direct', runtime],
  ] as const) {
    console.log(
      `heartbeats (${door}, inspector off) ${round(run.beats.ok / run.beats.elapsedSeconds)}/s of ${round(run.beats.offered / run.beats.seconds)}/s offered, p99 ${round(percentile(run.beats.latencies, 99))} ms, ${run.beats.errors} errors: ${verdict(metTarget(run))}`,
    )
  }
  console.log(
    `D1 rows per agent-hour ${results.d1_rows_per_agent_hour} (<= ${TARGETS.rowsPerAgentHour}): ${verdict(results.d1_rows_per_agent_hour <= TARGETS.rowsPerAgentHour)}`,
  )
} finally {
  await server.stop()
}
