/**
 * `npm run bench:control-plane`: its own wrangler dev (free ports, own state, D1 meter on), a client
 * made through the admin API, agents registered through the agent API; prints and writes
 * bench/results/control-plane.json:
 * - command delivery latency from the force-switch call to the WebSocket client's receipt (p50/p99
 *   over 200 commands), and what 15-second polling gives;
 * - heartbeats in open loop, 500/s offered by 200 agents for 60 s: rate achieved, p99, errors; and the
 *   closed-loop ceiling of wrangler dev on this machine (a no-op route, GET /health, a heartbeat);
 * - D1 rows written per agent-hour at the installed agents' cadence (sum of D1's meta.rows_written).
 * BENCH_D1_WINDOW_SECONDS shortens the D1 window (default 300) for a quick run.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../scripts/fleet/control-plane'
import { newClientToken, registerAgents, sayOffline } from './control-plane/agents'
import { measureRowsWritten } from './control-plane/d1-rows'
import { measurePolling, measurePush } from './control-plane/delivery'
import { measureCeiling } from './control-plane/ceiling'
import { offerHeartbeats } from './control-plane/heartbeats'
import { startBenchServer } from './control-plane/server'
import { percentile, round } from './control-plane/stats'
import { machineLine } from './machine'

const TARGETS = { deliveryP99Ms: 250, heartbeatRps: 500, heartbeatP99Ms: 100, rowsPerAgentHour: 30 }
const d1WindowSeconds = Number(process.env.BENCH_D1_WINDOW_SECONDS ?? 300)

const server = await startBenchServer()
console.log(`control plane at ${server.url}`)
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

  console.log('heartbeats: 500/s offered by 200 agents for 60 s…')
  const beatAgents = await registerAgents(server, await newClientToken(server, 'bench-heartbeat'), 200)
  console.log('ceiling: the most wrangler dev answers here, closed loop…')
  const ceiling = await measureCeiling(server, beatAgents[0]!)
  await offerHeartbeats(server, beatAgents, 50, 2)
  const beats = await offerHeartbeats(server, beatAgents, 500, 60)
  const serverDied = !(await fetch(`${server.url}/health`)
    .then((r) => r.ok)
    .catch(() => false))
  if (!serverDied) await sayOffline(server, [...pushAgents, ...pollAgents, ...beatAgents])

  const results = {
    delivery_p50_ms: round(percentile(push, 50)),
    delivery_p99_ms: round(percentile(push, 99)),
    delivery_samples: push.length,
    polling_delivery_p50_ms: round(percentile(polling, 50), 0),
    polling_delivery_p99_ms: round(percentile(polling, 99), 0),
    polling_samples: polling.length,
    heartbeat_offered_rps: round(beats.offered / beats.seconds),
    heartbeat_rps: round(beats.ok / beats.seconds),
    heartbeat_p50_ms: round(percentile(beats.latencies, 50)),
    heartbeat_p99_ms: round(percentile(beats.latencies, 99)),
    heartbeat_errors: beats.errors,
    heartbeat_error_kinds: beats.errorKinds,
    /** Closed-loop requests/s wrangler dev answers here: a no-op route, GET /health, a heartbeat. */
    wrangler_dev_ceiling_rps: ceiling,
    /** wrangler dev stopped answering during the heartbeat load. */
    server_died_under_heartbeat_load: serverDied,
    d1_rows_per_agent_hour: round(rows.rowsPerAgentHour),
    d1_rows_per_agent_hour_by_statement: rows.byStatementPerAgentHour,
    d1_rows_written_in_window: rows.rowsWritten,
    d1_window_agents: rows.agents,
    d1_window_seconds: rows.windowSeconds,
    machine: `${machineLine()}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end; wrangler dev (workerd, local D1), load generator on the same machine`,
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
  writeFileSync(join(ROOT, 'bench', 'results', 'control-plane.json'), `${JSON.stringify(results, null, 2)}\n`)
  console.log(results)
  const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED')
  console.log(
    `delivery p99 ${results.delivery_p99_ms} ms (< ${TARGETS.deliveryP99Ms}): ${verdict(results.delivery_p99_ms < TARGETS.deliveryP99Ms)}`,
  )
  console.log(
    `heartbeats ${results.heartbeat_rps}/s, p99 ${results.heartbeat_p99_ms} ms, ${results.heartbeat_errors} errors: ${verdict(
      results.heartbeat_rps >= TARGETS.heartbeatRps * 0.99 &&
        results.heartbeat_p99_ms < TARGETS.heartbeatP99Ms &&
        results.heartbeat_errors === 0,
    )}`,
  )
  console.log(
    `D1 rows per agent-hour ${results.d1_rows_per_agent_hour} (<= ${TARGETS.rowsPerAgentHour}): ${verdict(results.d1_rows_per_agent_hour <= TARGETS.rowsPerAgentHour)}`,
  )
} finally {
  await server.stop()
}
