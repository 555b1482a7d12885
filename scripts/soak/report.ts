/** The soak's result: the figures of bench/results/soak.json, the printed table and the verdict. */
import type { Divergence, Invariant } from './invariants'
import type { Injected } from './events'
import type { LedgerLine } from './ledger'
import { CONTROL_PLANE_SHARE_S, type NoticeLatency } from './sustain'

export interface FoundDivergence {
  /** ISO time (simulated) of the first check that found it. */
  time: string
  invariant: Invariant
  workload: string
  /** What it is about (an instance, a notice, a launch). */
  subject: string
  ec2: string
  d1: string
  /** How many checks found it (a divergence that lasts is one divergence). */
  checks: number
  last_seen: string
}

export interface SoakResult {
  seed: number
  simulated_hours: number
  agents: number
  /** Of them, emulated installed 4.0.0 agents. */
  legacy_agents: number
  interruptions: number
  rebalances: number
  kills: number
  restarts: number
  capacity_errors: number
  switches: number
  divergences: number
  lost_workloads: number
  orphan_instance_hours: number
  duplicate_launches: number
  ledger_error_pct: number
  /** --stateful: workloads with a data volume and the stateful mode on (0 without). */
  stateful_agents: number
  /** Planned switches of those workloads D1 recorded. */
  stateful_switches: number
  /** Interruption notices the soak sent them. */
  stateful_interruptions: number
  /** Planned stateful switches whose new instance did not start from the old one's last write (invariant i). */
  data_mismatches: number
  /** Volumes and interfaces found orphaned (invariant h), each once. */
  orphan_volumes: number
  orphan_interfaces: number
  inject_divergence: boolean
  injected: Injected | null
  divergence_list: FoundDivergence[]
  ledger: LedgerLine[]
  run: {
    speed: number
    started_at: string
    real_seconds: number
    checks: number
    worker_restart_real_seconds: number | null
    /** Whether the machine kept up with the speed (sustain.ts keptUp). */
    kept_up: boolean
    /** The longest the soak process (fake EC2, IMDS, supervisor) could not serve, real ms. */
    event_loop_delay_max_ms: number
    /** The longest check (D1 read, snapshot, bill, invariants), real ms. */
    check_max_ms: number
    /** Average cores used by the Worker's runtime, the agents and the soak process (fakes, IMDS). */
    cpu_cores: Record<string, number>
    health_p50_ms: number | null
    health_max_ms: number | null
    notice_to_control_plane: NoticeLatency
    agent_offline_notifications: number
    crons: { runs: number; failures: number }
    load_average_1m_max: number
    lost: string[]
    state_dirs: string[]
  }
}

/** Merges the divergences of one check into those found so far (the same subject is the same divergence). */
export function mergeDivergences(found: Map<string, FoundDivergence>, fresh: readonly Divergence[]): void {
  for (const d of fresh) {
    const key = `${d.invariant}|${d.workload}|${d.subject}`
    const time = new Date(d.at).toISOString()
    const seen = found.get(key)
    if (seen) {
      // The first time it was seen stays; what each side says is the latest (a ledger gap grows).
      Object.assign(seen, { checks: seen.checks + 1, last_seen: time, ec2: d.ec2, d1: d.d1 })
    } else {
      found.set(key, {
        time,
        invariant: d.invariant,
        workload: d.workload,
        subject: d.subject,
        ec2: d.ec2,
        d1: d.d1,
        checks: 1,
        last_seen: time,
      })
    }
  }
}

/** What failed of the issue's "done when"; empty when the run passes. */
export function failures(result: SoakResult): string[] {
  const failed: string[] = []
  if (result.inject_divergence) {
    const injected = result.injected
    if (!injected) failed.push('no divergence was injected')
    else if (!result.divergence_list.some((d) => d.invariant === 'd' && d.subject === injected.instance_id))
      failed.push(`the injected divergence (${injected.instance_id} terminated in D1) was not found`)
    return failed
  }
  if (result.divergences > 0) failed.push(`${result.divergences} divergence(s)`)
  if (result.lost_workloads > 0) failed.push(`${result.lost_workloads} lost workload(s)`)
  if (result.orphan_instance_hours > 0) failed.push(`${result.orphan_instance_hours} orphan instance-hours`)
  if (result.duplicate_launches > 0) failed.push(`${result.duplicate_launches} duplicate launch(es)`)
  if (result.ledger_error_pct > 1) failed.push(`ledger ${result.ledger_error_pct} % off the bill`)
  return failed
}

/** The table printed at the end. */
export function formatReport(result: SoakResult): string {
  const rows: Array<[string, string | number]> = [
    ['seed', result.seed],
    ['simulated hours', result.simulated_hours],
    ['agents (of them 4.0.0)', `${result.agents} (${result.legacy_agents})`],
    ['speed, real time', `${result.run.speed}×, ${Math.round(result.run.real_seconds)} s`],
    ['interruptions / rebalances', `${result.interruptions} / ${result.rebalances}`],
    [
      'kills / restarts / capacity errors',
      `${result.kills} / ${result.restarts} / ${result.capacity_errors}`,
    ],
    ['switches recorded', result.switches],
    ['divergences', result.divergences],
    ['lost workloads', result.lost_workloads],
    ['orphan instance-hours', result.orphan_instance_hours],
    ['duplicate launches', result.duplicate_launches],
    ['ledger error (worst workload)', `${result.ledger_error_pct} %`],
    ...(result.stateful_agents > 0
      ? ([
          ['stateful agents', result.stateful_agents],
          [
            'stateful switches / interruptions',
            `${result.stateful_switches} / ${result.stateful_interruptions}`,
          ],
          ['data mismatches', result.data_mismatches],
          ['orphan volumes / interfaces', `${result.orphan_volumes} / ${result.orphan_interfaces}`],
        ] satisfies Array<[string, string | number]>)
      : []),
    [
      'cores used',
      Object.entries(result.run.cpu_cores)
        .map(([group, cores]) => `${group} ${cores}`)
        .join(', '),
    ],
    ['notice → control plane (simulated)', noticeFigure(result.run.notice_to_control_plane)],
    ['agents gone offline (notifications)', result.run.agent_offline_notifications],
  ]
  const width = Math.max(...rows.map(([name]) => name.length))
  const lines = rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`)
  if (!result.run.kept_up)
    lines.push(
      '',
      `WARNING: the machine did not keep up with ${result.run.speed}× (notices reached the control plane after the`,
      `agent's ${CONTROL_PLANE_SHARE_S} s share of their budget, or this process stalled): interruptions took the agents' own path`,
      'for the speed, not the code. Run with a lower --speed (40× held here) to tell them apart.',
    )
  if (result.divergence_list.length > 0) {
    lines.push('', 'divergences (first seen, invariant, workload: EC2 says | D1 says):')
    for (const d of result.divergence_list)
      lines.push(
        `  ${d.time} (${d.invariant}) ${d.workload}: ${d.ec2} | ${d.d1}${d.checks > 1 ? ` [${d.checks} checks]` : ''}`,
      )
  }
  return lines.join('\n')
}

function noticeFigure(n: NoticeLatency): string {
  const heard = n.p50_s === null ? 'none heard' : `p50 ${n.p50_s} s, max ${n.max_s} s`
  return n.unheard > 0 ? `${heard}, ${n.unheard} never heard` : heard
}

/** A ledger line with its dollars to the micro-dollar and its error to 0.001 %. */
export function roundedLine(l: LedgerLine): LedgerLine {
  const to = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits
  return {
    ...l,
    windowHours: to(l.windowHours, 3),
    ledgerCost: to(l.ledgerCost, 6),
    billed: to(l.billed, 6),
    ledgerBaseline: to(l.ledgerBaseline, 6),
    expectedBaseline: to(l.expectedBaseline, 6),
    errorPct: to(l.errorPct, 3),
  }
}
