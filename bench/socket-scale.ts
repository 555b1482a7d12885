/**
 * `npm run bench:socket-scale`: 10,000 connected agents in one workerd. Light socket clients in this
 * process (test/load/light-socket.ts, not agent processes) come up as the 5.x agent does: register, open
 * the push socket against the runtime directly (not wrangler's proxy) and heartbeat on it at once; then
 * each keeps the agent's cadence (bench/socket-cadence.ts: a ping every 30 s, a socket heartbeat every
 * SCALE_HEARTBEAT_SECONDS, default the agent's 90) while the rest come up and for SCALE_MINUTES
 * (default 10) once all are; then SCALE_SWITCHES (default 1,000) force-switches are queued through the
 * client API and their delivery timed to the socket. Writes bench/results/socket-scale.json. Errors:
 * agents that failed to register or open their socket, sockets that dropped, commands not delivered
 * within 10 s, pings and heartbeats unanswered.
 *
 * What bounds it is recorded, not guessed: each process's open descriptors by kind (sockets, objects'
 * SQLite files, D1), the objects awake (an object's database is open while it is, closed when it
 * hibernates), the memory of workerd and of this process, every minute.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { join } from 'node:path'
import { ROOT } from '../scripts/fleet/control-plane'
import { SOCKET_HEARTBEAT_MS } from '../src/protocol'
import { LightSocket, type Probe } from '../test/load/light-socket'
import { forceSwitch, newClientToken, registerAgents, type SimAgent } from './control-plane/agents'
import { startBenchServer } from './control-plane/server'
import { percentile, round } from './control-plane/stats'
import { machineLine } from './machine'
import { probesDue } from './socket-cadence'
import {
  descriptorsOf,
  openFilesLimit,
  workerdDescriptors,
  workerdOpenFilesLimit,
  workerdRssMb,
  type Descriptors,
} from './workerd'

const AGENTS = Number(process.env.SCALE_AGENTS ?? 10_000)
const MINUTES = Number(process.env.SCALE_MINUTES ?? 10)
const SWITCHES = Math.min(AGENTS, Number(process.env.SCALE_SWITCHES ?? 1_000))
const HEARTBEAT_SECONDS = Number(process.env.SCALE_HEARTBEAT_SECONDS ?? SOCKET_HEARTBEAT_MS / 1000)
/** Agents coming up at once (register, then open), and force-switches in flight at once. */
const COMING_UP = 16
const SWITCHING = 10
/** Setup stops after this many agents failed to come up: the bound is found, the rest would fail too. */
const MAX_SETUP_FAILURES = 100
const DELIVERY_TIMEOUT_MS = 10_000
const TARGET_DELIVERY_P99_MS = 1_000

interface Up {
  agent: SimAgent
  socket: LightSocket
  /** The ticker's tick at which it opened: its cadence counts from there. */
  openedTick: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const machine = machineLine()
const server = await startBenchServer()
const started = performance.now()
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)

const errors = { register: 0, open: 0, dropped: 0, undelivered: 0 }
const firstFailures: string[] = []
const answered: Record<Probe, number[]> = { ping: [], heartbeat: [] }
const sent: Record<Probe, number> = { ping: 0, heartbeat: 0 }
const received = new Map<string, number>()
/** Round trips of coming up, ms: the registration, then the socket's upgrade (auth, the object's accept). */
const comingUp = { register: [] as number[], open: [] as number[] }
const up: Up[] = []
const timeline: ReturnType<typeof sample>[] = []
/** This process's own event-loop delay: a late answer it records may be its own lateness. */
const loopDelay = monitorEventLoopDelay({ resolution: 10 })
loopDelay.enable()
let phase = 'coming up' as 'coming up' | 'held' | 'switching'

/** What the processes hold now: connected sockets, descriptors by kind, objects awake, memory. */
function sample() {
  const workerd = workerdDescriptors(server.pid)
  const sum = (kind: keyof Descriptors['byKind']) => workerd.reduce((n, d) => n + d.byKind[kind], 0)
  const bench = descriptorsOf(process.pid)
  return {
    minute: round((performance.now() - started) / 60_000, 1),
    phase,
    connected: up.length - errors.dropped,
    workerd_rss_mb: round(workerdRssMb(server.pid)),
    bench_rss_mb: round(process.memoryUsage().rss / 2 ** 20),
    workerd_open_files: workerd.reduce((n, d) => n + d.total, 0),
    workerd_sockets: sum('socket'),
    workerd_object_files: sum('object_storage'),
    objects_awake: workerd.reduce((n, d) => n + d.objectsOpen, 0),
    workerd_d1_files: sum('d1'),
    bench_open_files: bench.total,
    bench_sockets: bench.byKind.socket,
    pongs: answered.ping.length,
    heartbeat_oks: answered.heartbeat.length,
  }
}

function logSample(s: ReturnType<typeof sample>): void {
  log(
    `${s.phase}: ${s.connected} connected; workerd ${s.workerd_rss_mb} MB, ${s.workerd_open_files} open files (${s.workerd_sockets} sockets, ${s.workerd_object_files} object files of ${s.objects_awake} awake objects); bench ${s.bench_open_files} open files, ${s.bench_rss_mb} MB; pongs ${s.pongs}/${sent.ping}, heartbeat_oks ${s.heartbeat_oks}/${sent.heartbeat}`,
  )
}

/** Each second, every socket sends what the agent's cadence says for its age; a sample every minute. */
let ticking = true
let tick = 0
const ticker = (async () => {
  while (ticking) {
    for (const u of up) {
      for (const probe of probesDue(tick - u.openedTick, HEARTBEAT_SECONDS)) {
        u.socket[probe]()
        sent[probe]++
      }
    }
    // Not while switching: reading 20,000 descriptors holds this process's loop for a moment.
    if (tick % 60 === 0 && phase !== 'switching') {
      timeline.push(sample())
      logSample(timeline.at(-1)!)
    }
    tick++
    await sleep(Math.max(0, started + tick * 1000 - performance.now()))
  }
})()

function failed(kind: 'register' | 'open', error: unknown): void {
  errors[kind]++
  if (firstFailures.length < 5) firstFailures.push(`${kind}: ${String(error)}`)
}

/** One agent comes up as the 5.x agent does: registers, then opens its socket (its cadence starts). */
async function comeUp(token: string): Promise<void> {
  const registering = performance.now()
  const agent = await registerAgents({ ...server, url: server.runtimeUrl }, token, 1, '5.0.0', 1).then(
    ([registered]) => registered ?? null,
    (error: unknown) => {
      failed('register', error)
      return null
    },
  )
  if (!agent) return
  const opening = performance.now()
  comingUp.register.push(opening - registering)
  const socket = new LightSocket(server.runtimeUrl, token, agent.agentId, agent.identity.instanceId, {
    answered: (probe, ms) => answered[probe].push(ms),
    command: (id, at) => received.set(id, at),
    dropped: () => errors.dropped++,
  })
  try {
    await socket.open()
    comingUp.open.push(performance.now() - opening)
    up.push({ agent, socket, openedTick: tick })
  } catch (error) {
    failed('open', error)
  }
}

try {
  const rssBaselineMb = workerdRssMb(server.pid)
  log(
    `control plane up; open-files limit here ${openFilesLimit(process.pid)}, workerd ${workerdOpenFilesLimit(server.pid)}`,
  )
  const token = await newClientToken(server, 'bench-socket-scale')
  let next = 0
  const isSetupOver = () => next >= AGENTS || errors.register + errors.open > MAX_SETUP_FAILURES
  await Promise.all(
    Array.from({ length: COMING_UP }, async () => {
      while (!isSetupOver()) {
        next++
        await comeUp(token)
      }
    }),
  )
  const upSeconds = (performance.now() - started) / 1000
  log(
    `${up.length} agents up in ${round(upSeconds)} s (${errors.register} failed to register, ${errors.open} to open)`,
  )

  phase = 'held'
  await Promise.all([
    server.admin('/__debug/do-requests/reset', {}).then((r) => r.body?.cancel()),
    server.resetRowsWritten(),
  ])
  const holdStarted = performance.now()
  await sleep(MINUTES * 60_000)
  const heldMinutes = (performance.now() - holdStarted) / 60_000
  const held = sample()
  const [objectRequests, rowsWritten] = await Promise.all([
    server
      .admin('/__debug/do-requests')
      .then((r) => r.json() as Promise<{ by_kind: Record<string, { count: number }> }>),
    server.rowsWritten(),
  ])
  // Which process holds what: each workerd (the runtime, and wrangler's proxy in its own) and this one.
  const heldProcesses = [
    ...workerdDescriptors(server.pid).map((d) => ({ process: 'workerd', ...d })),
    { process: 'bench', ...descriptorsOf(process.pid) },
  ]
  timeline.push(held)
  logSample(held)

  phase = 'switching'
  log(`${SWITCHES} force-switches, ${SWITCHING} at a time…`)
  const step = Math.max(1, Math.floor(up.length / SWITCHES))
  const targets = up.filter((_, i) => i % step === 0).slice(0, SWITCHES)
  const delivery: number[] = []
  const routeAnswer: number[] = []
  loopDelay.reset()
  let nextSwitch = 0
  await Promise.all(
    Array.from({ length: SWITCHING }, async () => {
      while (nextSwitch < targets.length) {
        const { agent } = targets[nextSwitch++]!
        const switchStarted = performance.now()
        const id = await forceSwitch(server, agent)
        routeAnswer.push(performance.now() - switchStarted)
        if (id === null) {
          errors.undelivered++
          continue
        }
        while (!received.has(id) && performance.now() - switchStarted < DELIVERY_TIMEOUT_MS) await sleep(5)
        const at = received.get(id)
        if (at === undefined) errors.undelivered++
        else delivery.push(at - switchStarted)
      }
    }),
  )
  const switchingLoopDelayP99 = loopDelay.percentile(99) / 1e6
  const switchingLoopDelayMax = loopDelay.max / 1e6
  ticking = false
  await ticker
  await sleep(5_000) // the last probes' answers
  const unanswered = (probe: Probe) => up.reduce((sum, u) => sum + u.socket.waiting(probe), 0)
  const unansweredPings = unanswered('ping')
  const unansweredHeartbeats = unanswered('heartbeat')
  for (const u of up) u.socket.close()

  const results = {
    connected_agents: held.connected,
    minutes: round(heldMinutes, 1),
    errors: Object.values(errors).reduce((a, b) => a + b, 0) + unansweredPings + unansweredHeartbeats,
    error_kinds: {
      ...errors,
      unanswered_pings: unansweredPings,
      unanswered_heartbeats: unansweredHeartbeats,
    },
    first_failures: firstFailures,
    delivery_p50_ms: round(percentile(delivery, 50)),
    delivery_p99_ms: round(percentile(delivery, 99)),
    delivery_samples: delivery.length,
    delivery_p90_ms: round(percentile(delivery, 90)),
    delivery_max_ms: round(Math.max(...delivery)),
    // The force-switch call alone (its HTTP answer), and this process's own loop delay meanwhile: the
    // tail is the runtime's only where these two say so.
    switch_route_p50_ms: round(percentile(routeAnswer, 50)),
    switch_route_p99_ms: round(percentile(routeAnswer, 99)),
    bench_loop_delay_switching_p99_ms: round(switchingLoopDelayP99),
    bench_loop_delay_switching_max_ms: round(switchingLoopDelayMax),
    delivery_target_met: percentile(delivery, 99) <= TARGET_DELIVERY_P99_MS,
    workerd_rss_mb: held.workerd_rss_mb,
    workerd_rss_before_mb: round(rssBaselineMb),
    rss_per_agent_kb: round(((held.workerd_rss_mb - rssBaselineMb) * 1024) / Math.max(1, held.connected)),
    bench_rss_mb: held.bench_rss_mb,
    open_files_when_held: {
      workerd: held.workerd_open_files,
      workerd_sockets: held.workerd_sockets,
      workerd_object_files: held.workerd_object_files,
      objects_awake: held.objects_awake,
      bench: held.bench_open_files,
      bench_sockets: held.bench_sockets,
    },
    descriptors_when_held: heldProcesses,
    open_files_limit: { bench: openFilesLimit(process.pid), workerd: workerdOpenFilesLimit(server.pid) },
    // What the held fleet cost the objects and D1 (each object's alarm should never ring: docs/capacity.md, Liveness).
    object_requests_per_agent_hour_held: Object.fromEntries(
      Object.entries(objectRequests.by_kind).map(([kind, { count }]) => [
        kind,
        round(count / Math.max(1, held.connected) / (heldMinutes / 60), 2),
      ]),
    ),
    d1_rows_written_per_agent_hour_held: round(
      rowsWritten.total / Math.max(1, held.connected) / (heldMinutes / 60),
      2,
    ),
    pings_sent: sent.ping,
    pongs: answered.ping.length,
    ping_p99_ms: round(percentile(answered.ping, 99)),
    socket_heartbeats_sent: sent.heartbeat,
    heartbeat_oks: answered.heartbeat.length,
    socket_heartbeat_p99_ms: round(percentile(answered.heartbeat, 99)),
    up_seconds: round(upSeconds),
    agents_up_per_second: round(up.length / upSeconds),
    register_p50_ms: round(percentile(comingUp.register, 50)),
    register_p99_ms: round(percentile(comingUp.register, 99)),
    socket_open_p50_ms: round(percentile(comingUp.open, 50)),
    socket_open_p99_ms: round(percentile(comingUp.open, 99)),
    timeline,
    setup: `light socket clients in one Node process against the workerd runtime directly (not wrangler's proxy); each registers, opens its socket and heartbeats at once, ${COMING_UP} coming up at a time, then pings every 30 s and heartbeats every ${HEARTBEAT_SECONDS} s; force-switches through the client API, ${SWITCHING} in flight`,
    machine,
    load_average_at_end: round(loadavg()[0]!),
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
  writeFileSync(join(ROOT, 'bench', 'results', 'socket-scale.json'), `${JSON.stringify(results, null, 2)}\n`)
  const { timeline: _, ...summary } = results
  console.log(summary)
} finally {
  ticking = false
  await server.stop()
}
