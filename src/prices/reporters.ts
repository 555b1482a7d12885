/**
 * One pricing reporter per (client, region, instance type): prices belong to pools, so one agent's
 * reports serve every agent of its client in that group. A verified agent is preferred, as only its
 * reports feed other tenants' consensus (auth/principal.ts feedsOtherTenants); then the oldest. The
 * reporter stays while it can report and no verified agent outranks it. Pure;
 * flows/pricing-reporters.ts reads and writes around it.
 */
import { isLegacyAgent } from '../protocol'

export interface Group {
  clientId: string
  region: string
  instanceType: string
}

/** An agent and the group of its current instance, as D1 knows them. */
export interface Candidate extends Group {
  agentId: string
  agentVersion: string | null
  status: string
  identity: 'verified' | 'unverified'
  createdAt: number
}

export interface Reporter extends Group {
  agentId: string
  /** Epoch ms. */
  electedAt: number
}

export interface ElectionPlan {
  /** Groups with a new reporter (upserted). */
  elect: Reporter[]
  /** Groups left without an agent that can report (their row removed). */
  vacate: Group[]
  /** Agents whose role changed, told to fetch their config again. */
  tell: string[]
}

function groupKey(g: Group): string {
  return `${g.clientId}\u0000${g.region}\u0000${g.instanceType}`
}

/**
 * Whether an agent can be told to report: a 5.x agent the control plane hears from (a disabled agent
 * still runs). Installed 4.0.0/3.2.0 agents report whatever they are told, so they never hold the role.
 */
export function canReport(c: Candidate): boolean {
  return !isLegacyAgent(c.agentVersion) && (c.status === 'online' || c.status === 'disabled')
}

/** The agent that takes a group's role among its candidates: verified first, the oldest, the smallest id. */
export function firstInLine(candidates: readonly Candidate[]): Candidate | null {
  const able = candidates.filter(canReport)
  const rank = (c: Candidate) => (c.identity === 'verified' ? 0 : 1)
  able.sort((a, b) => rank(a) - rank(b) || a.createdAt - b.createdAt || (a.agentId < b.agentId ? -1 : 1))
  return able[0] ?? null
}

/** Whether the group's reporter keeps its role: it can report, and it is verified or no one able is. */
function keepsRole(reporter: Reporter, members: readonly Candidate[]): boolean {
  const current = members.find((m) => m.agentId === reporter.agentId)
  if (!current || !canReport(current)) return false
  return current.identity === 'verified' || firstInLine(members)?.identity !== 'verified'
}

/** The role changes of every group among `candidates` and `current` at `now`. */
export function planElection(
  candidates: readonly Candidate[],
  current: readonly Reporter[],
  now: number,
): ElectionPlan {
  type Entry = { group: Group; members: Candidate[]; reporter?: Reporter }
  const groups = new Map<string, Entry>()
  const entry = (g: Group): Entry => {
    const key = groupKey(g)
    const found = groups.get(key)
    if (found) return found
    const group = { clientId: g.clientId, region: g.region, instanceType: g.instanceType }
    const created: Entry = { group, members: [] }
    groups.set(key, created)
    return created
  }
  for (const c of candidates) entry(c).members.push(c)
  for (const r of current) entry(r).reporter = r
  const plan: ElectionPlan = { elect: [], vacate: [], tell: [] }
  for (const { group, members, reporter } of groups.values()) {
    if (reporter && keepsRole(reporter, members)) continue
    const next = firstInLine(members)
    // The one that lost the role may still be connected though D1 counts it out: it stops reporting.
    if (reporter) plan.tell.push(reporter.agentId)
    if (next) {
      plan.elect.push({ ...group, agentId: next.agentId, electedAt: now })
      plan.tell.push(next.agentId)
    } else if (reporter) plan.vacate.push(group)
  }
  plan.tell = [...new Set(plan.tell)]
  return plan
}
