/**
 * The soak's events, a pure function of (seed, hours, agents): the same arguments replay the same
 * schedule. Times are simulated ms after the start; workloads are indexes (0 = agent-1). Events keep out
 * of the first 15 and the last 30 simulated minutes, so the run starts clean and ends settled.
 */

export type SoakEvent =
  /** A spot interruption notice to the workload's primary (EC2 terminates it 2 minutes later). */
  | { kind: 'interrupt'; atMs: number; workload: number }
  | { kind: 'rebalance'; atMs: number; workload: number }
  /** SIGKILL of the agent process on the workload's primary (the supervisor restarts it, as systemd). */
  | { kind: 'kill'; atMs: number; workload: number }
  /** The Worker stopped and started again on the same port, persist dir and SIM_CLOCK. */
  | { kind: 'restart'; atMs: number }
  /** Spot launches in one zone answer InsufficientInstanceCapacity for `forMs`. */
  | { kind: 'capacity'; atMs: number; zone: number; forMs: number }
  /** One D1 row corrupted on purpose (`--inject-divergence`): the checker must find it. */
  | { kind: 'inject'; atMs: number; workload: number }

export interface ScheduleOptions {
  seed: number
  hours: number
  agents: number
  zones: number
  injectDivergence: boolean
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const QUIET_START_MS = 15 * MINUTE
const QUIET_END_MS = 30 * MINUTE
/** Share of interruptions preceded by a rebalance recommendation (5-30 minutes before). */
const WARNED_SHARE = 0.6

/** How many of each event a run gets: at least 3 interruptions, 5 rebalances, 1 kill and 1 restart. */
export function eventCounts(hours: number, agents: number) {
  const agentHours = hours * agents
  return {
    interruptions: Math.max(3, Math.round(agentHours / 48)),
    rebalances: Math.max(5, Math.round(agentHours / 24)),
    kills: Math.max(1, Math.round(agentHours / 80)),
    capacityErrors: Math.max(1, Math.round(hours / 12)),
  }
}

export function buildSchedule(options: ScheduleOptions): SoakEvent[] {
  const random = mulberry32(options.seed)
  const span = options.hours * HOUR
  const when = () => QUIET_START_MS + random() * (span - QUIET_START_MS - QUIET_END_MS)
  const workload = () => Math.floor(random() * options.agents)
  const counts = eventCounts(options.hours, options.agents)
  const events: SoakEvent[] = []
  for (let n = 0; n < counts.interruptions; n++) {
    const atMs = Math.max(QUIET_START_MS + 30 * MINUTE, when())
    const target = workload()
    if (random() < WARNED_SHARE)
      events.push({ kind: 'rebalance', atMs: atMs - (5 + random() * 25) * MINUTE, workload: target })
    events.push({ kind: 'interrupt', atMs, workload: target })
  }
  for (let n = 0; n < counts.rebalances; n++)
    events.push({ kind: 'rebalance', atMs: when(), workload: workload() })
  for (let n = 0; n < counts.kills; n++) events.push({ kind: 'kill', atMs: when(), workload: workload() })
  for (let n = 0; n < counts.capacityErrors; n++)
    events.push({
      kind: 'capacity',
      atMs: when(),
      zone: Math.floor(random() * options.zones),
      forMs: (30 + random() * 60) * MINUTE,
    })
  events.push({ kind: 'restart', atMs: span * (0.4 + 0.2 * random()) })
  if (options.injectDivergence) return withInjection(events, options.hours, options.agents)
  return events.sort((a, b) => a.atMs - b.atMs)
}

/**
 * The schedule with one D1 row corrupted 10 minutes before the check of mid-run (past the checker's
 * grace), on a workload nothing else touches from 30 minutes before to 30 minutes after that check: an
 * interruption or a kill there, or the Worker restart, would legitimately change or hide the row.
 */
function withInjection(events: SoakEvent[], hours: number, agents: number): SoakEvent[] {
  const check = Math.ceil(hours / 2) * HOUR
  const atMs = check - 10 * MINUTE
  const [calmFrom, calmTo] = [check - 30 * MINUTE, check + 30 * MINUTE]
  const disturbs = (e: SoakEvent, workload: number) =>
    (e.kind === 'restart' || ((e.kind === 'interrupt' || e.kind === 'kill') && e.workload === workload)) &&
    e.atMs >= calmFrom &&
    e.atMs <= calmTo
  const quietest = Array.from({ length: agents }, (_, w) => w).sort(
    (a, b) => events.filter((e) => disturbs(e, a)).length - events.filter((e) => disturbs(e, b)).length,
  )[0]!
  // What still disturbs it moves to after the calm (the run's last events may then fall in its quiet end).
  const moved = events.map((e) =>
    disturbs(e, quietest) ? { ...e, atMs: calmTo + (e.atMs - calmFrom) / 4 } : e,
  )
  return [...moved, { kind: 'inject' as const, atMs, workload: quietest }].sort((a, b) => a.atMs - b.atMs)
}

/** A small seeded PRNG (mulberry32): numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
