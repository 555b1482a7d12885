/**
 * `npm run bench:socket-scale`: 10,000 connected agents in one workerd. Light socket clients in this
 * process (test/load/light-socket.ts, not agent processes) register, open their push sockets against
 * the runtime directly, and are held SCALE_MINUTES (default 10) with the 5.x wire's ping every 30 s
 * and a socket heartbeat every SCALE_HEARTBEAT_SECONDS (default 300); then SCALE_SWITCHES (default
 * 1,000) force-switches are queued through the client API and their delivery timed to the socket.
 * Writes bench/results/socket-scale.json. Errors: sockets that failed to open or dropped, commands not
 * delivered within 10 s, and probes unanswered when this build answers that probe at all.
 *
 * Each socket holds a file descriptor in this process and in workerd (and each live object its
 * storage): the npm script raises the open-files limit first (`ulimit -n`), and the result records
 * both processes' limits and workerd's open files.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../scripts/fleet/control-plane'
import { LightSocket, type Probe } from '../test/load/light-socket'
import { forceSwitch, newClientToken, registerAgents, type SimAgent } from './control-plane/agents'
import { startBenchServer } from './control-plane/server'
import { percentile, round } from './control-plane/stats'
import { machineLine } from './machine'
import { openFilesLimit, workerdOpenFiles, workerdOpenFilesLimit, workerdRssMb } from './workerd'

const AGENTS = Number(process.env.SCALE_AGENTS ?? 10_000)
const MINUTES = Number(process.env.SCALE_MINUTES ?? 10)
const SWITCHES = Math.min(AGENTS, Number(process.env.SCALE_SWITCHES ?? 1_000))
const PING_SECONDS = 30
const HEARTBEAT_SECONDS = Number(process.env.SCALE_HEARTBEAT_SECONDS ?? 300)
/** Sockets opened at once, and force-switches in flight at once. */
const OPENING = 50
const SWITCHING = 10
const DELIVERY_TIMEOUT_MS = 10_000
const TARGET_DELIVERY_P99_MS = 1_000

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const machine = machineLine()
const server = await startBenchServer()
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)
const sample = () =>
  `workerd ${Math.round(workerdRssMb(server.pid))} MB, ${workerdOpenFiles(server.pid)} open files`

const errors = { open: 0, dropped: 0, undelivered: 0 }
const answered: Record<Probe, number[]> = { ping: [], heartbeat: [] }
const received = new Map<string, number>()
try {
  const rssBaselineMb = workerdRssMb(server.pid)
  log(
    `control plane up (${sample()}); open-files limit here ${openFilesLimit(process.pid)}, workerd ${workerdOpenFilesLimit(server.pid)}`,
  )
  const token = await newClientToken(server, 'bench-socket-scale')
  const registerStarted = performance.now()
  const agents: SimAgent[] = []
  for (let start = 0; start < AGENTS; start += 500) {
    agents.push(
      ...(await registerAgents(
        { ...server, url: server.runtimeUrl },
        token,
        Math.min(500, AGENTS - start),
        '5.0.0',
        16,
      )),
    )
    log(`registered ${agents.length}`)
  }
  const registerSeconds = (performance.now() - registerStarted) / 1000

  const connectStarted = performance.now()
  const sockets = agents.map(
    (a) =>
      new LightSocket(server.runtimeUrl, token, a.agentId, a.identity.instanceId, {
        answered: (probe, ms) => answered[probe].push(ms),
        command: (id, at) => received.set(id, at),
        dropped: () => errors.dropped++,
      }),
  )
  const open: LightSocket[] = []
  for (let start = 0; start < sockets.length; start += OPENING) {
    const batch = sockets.slice(start, start + OPENING)
    const outcomes = await Promise.allSettled(batch.map((s) => s.open()))
    outcomes.forEach((o, i) => (o.status === 'fulfilled' ? open.push(batch[i]!) : errors.open++))
    if ((start / OPENING) % 40 === 0) log(`opened ${open.length}, failed ${errors.open} (${sample()})`)
  }
  const connectSeconds = (performance.now() - connectStarted) / 1000
  log(`${open.length} sockets open in ${round(connectSeconds)} s (${sample()})`)

  // Hold: each socket pings every 30 s and heartbeats every HEARTBEAT_SECONDS, phases spread evenly.
  const holdStarted = performance.now()
  const holdEnd = holdStarted + MINUTES * 60_000
  const sent: Record<Probe, number> = { ping: 0, heartbeat: 0 }
  let tick = 0
  while (performance.now() < holdEnd) {
    const second = tick++
    for (let i = 0; i < open.length; i++) {
      if ((second + i) % PING_SECONDS === 0) {
        open[i]!.ping()
        sent.ping++
      }
      if ((second + i) % HEARTBEAT_SECONDS === 0) {
        open[i]!.heartbeat()
        sent.heartbeat++
      }
    }
    if (second % 60 === 0)
      log(
        `minute ${second / 60}: ${open.length - errors.dropped} connected, pongs ${answered.ping.length}/${sent.ping}, heartbeat_ok ${answered.heartbeat.length}/${sent.heartbeat} (${sample()})`,
      )
    await sleep(Math.max(0, holdStarted + tick * 1000 - performance.now()))
  }
  const heldMinutes = (performance.now() - holdStarted) / 60_000
  const connected = open.length - errors.dropped
  const rssHeldMb = workerdRssMb(server.pid)
  const openFiles = workerdOpenFiles(server.pid)
  await sleep(5_000) // the last probes' answers
  const unanswered = (probe: Probe) =>
    answered[probe].length > 0 ? open.reduce((sum, s) => sum + s.waiting(probe), 0) : 0

  log(`${SWITCHES} force-switches, ${SWITCHING} at a time…`)
  const step = Math.max(1, Math.floor(open.length / SWITCHES))
  const targets = open.filter((_, i) => i % step === 0).slice(0, SWITCHES)
  const delivery: number[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: SWITCHING }, async () => {
      while (next < targets.length) {
        const socket = targets[next++]!
        const agent = agents.find((a) => a.agentId === socket.agentId)!
        const started = performance.now()
        const id = await forceSwitch(server, agent)
        if (id === null) {
          errors.undelivered++
          continue
        }
        while (!received.has(id) && performance.now() - started < DELIVERY_TIMEOUT_MS) await sleep(5)
        const at = received.get(id)
        if (at === undefined) errors.undelivered++
        else delivery.push(at - started)
      }
    }),
  )
  for (const s of open) s.close()
  const results = {
    connected_agents: connected,
    minutes: round(heldMinutes, 1),
    errors: errors.open + errors.dropped + errors.undelivered + unanswered('ping') + unanswered('heartbeat'),
    error_kinds: {
      ...errors,
      unanswered_pings: unanswered('ping'),
      unanswered_heartbeats: unanswered('heartbeat'),
    },
    delivery_p50_ms: round(percentile(delivery, 50)),
    delivery_p99_ms: round(percentile(delivery, 99)),
    delivery_samples: delivery.length,
    delivery_target_met: percentile(delivery, 99) <= TARGET_DELIVERY_P99_MS,
    workerd_rss_mb: round(rssHeldMb),
    workerd_rss_before_mb: round(rssBaselineMb),
    rss_per_agent_kb: round(((rssHeldMb - rssBaselineMb) * 1024) / Math.max(1, connected)),
    workerd_open_files: openFiles,
    open_files_limit: { bench: openFilesLimit(process.pid), workerd: workerdOpenFilesLimit(server.pid) },
    pings_sent: sent.ping,
    pongs: answered.ping.length,
    ping_p99_ms: answered.ping.length ? round(percentile(answered.ping, 99)) : null,
    socket_heartbeats_sent: sent.heartbeat,
    heartbeat_oks: answered.heartbeat.length,
    socket_heartbeat_p99_ms: answered.heartbeat.length ? round(percentile(answered.heartbeat, 99)) : null,
    register_seconds: round(registerSeconds),
    connect_seconds: round(connectSeconds),
    setup: `light socket clients in one Node process against the workerd runtime directly (not wrangler's proxy); ping every ${PING_SECONDS} s, socket heartbeat every ${HEARTBEAT_SECONDS} s; force-switches through the client API, ${SWITCHING} in flight`,
    machine,
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
  writeFileSync(join(ROOT, 'bench', 'results', 'socket-scale.json'), `${JSON.stringify(results, null, 2)}\n`)
  console.log(results)
} finally {
  await server.stop()
}
