/**
 * Risk evidence of a pool as one client may trust it: its own signals count fully; other clients' only
 * when shared (a verified agent's: auth/principal.ts feedsOtherTenants), each client once however much
 * it reports (a tenant flooding notices is one voice), and a moment-marker (the last interruption, the
 * last capacity error) or lifetimes of others hold only once MIN_AGREEING distinct clients show them. Pure; db/queries/market.ts feeds it.
 */
import { MIN_AGREEING } from '../prices/resolve'
import { rebalancesFollowed } from './stats'

/** One stored signal of a pool. */
export interface PoolSignal {
  clientId: string
  kind: 'notice' | 'rebalance'
  at: number
  /** Ties a rebalance to a later notice of the same instance. */
  key: string | null
  /** It may feed other tenants (events.shared). */
  shared: boolean
}

export interface WeighedSignals {
  interruptions30d: number
  rebalances30d: number
  rebalancesFollowed30d: number
  lastInterruptionAt: number | null
}

/** The 30-day counts and last interruption of a pool for `clientId`. */
export function weighSignals(signals: readonly PoolSignal[], clientId: string): WeighedSignals {
  const own = signals.filter((s) => s.clientId === clientId)
  const others = groupByClient(signals.filter((s) => s.clientId !== clientId && s.shared))
  const notices = (list: readonly PoolSignal[]) => list.filter((s) => s.kind === 'notice')
  const rebalances = (list: readonly PoolSignal[]) => list.filter((s) => s.kind === 'rebalance')
  const followed = (list: readonly PoolSignal[]) =>
    rebalancesFollowed(list.map((s) => ({ kind: s.kind, at: s.at, key: s.key })))
  return {
    interruptions30d: notices(own).length + others.filter((l) => notices(l).length > 0).length,
    rebalances30d: rebalances(own).length + others.filter((l) => rebalances(l).length > 0).length,
    rebalancesFollowed30d: followed(own) + others.filter((l) => followed(l) > 0).length,
    lastInterruptionAt: lastAgreed(
      notices(own).map((s) => s.at),
      others.map((l) => notices(l).map((s) => s.at)),
    ),
  }
}

/**
 * The last moment of an event for a client: its own latest, or the moment MIN_AGREEING distinct
 * clients (itself among them) had each seen one: the MIN_AGREEING-th newest of their latest moments.
 */
export function lastAgreed(own: readonly number[], others: readonly (readonly number[])[]): number | null {
  const ownLast = own.length > 0 ? Math.max(...own) : null
  const latest = [ownLast, ...others.map((l) => (l.length > 0 ? Math.max(...l) : null))]
    .filter((t): t is number => t !== null)
    .sort((a, b) => b - a)
  const agreed = latest.length >= MIN_AGREEING ? latest[MIN_AGREEING - 1]! : null
  if (ownLast === null) return agreed
  return agreed === null ? ownLast : Math.max(ownLast, agreed)
}

function groupByClient<T extends { clientId: string }>(items: readonly T[]): T[][] {
  const by = new Map<string, T[]>()
  for (const item of items) by.set(item.clientId, [...(by.get(item.clientId) ?? []), item])
  return [...by.values()]
}

/** A client's hours lived in a pool (PoolQuote's lifetime fields), before weighing. */
export interface ClientLifetimes {
  clientId: string
  /** Lives of instances that proved themselves (a signed identity document): they may feed others. */
  shared: boolean
  interruptedHours: number
  censoredHours: number
  interrupted: number
}

/** At most one instance's 30 days: what another client's lifetimes can weigh. */
const ONE_LIFE_HOURS = 30 * 24

/**
 * The pool's lifetimes for `clientId`: its own in full; other clients' shared ones only once
 * MIN_AGREEING of them lived there, each as at most one instance (hours capped at 30 days, interrupted
 * lives at most 1): one tenant's minute-long invented instance would otherwise read as a pool where
 * instances die at once.
 */
export function weighLifetimes(
  rows: readonly ClientLifetimes[],
  clientId: string,
): Omit<ClientLifetimes, 'clientId' | 'shared'> {
  let interruptedHours = 0
  let censoredHours = 0
  let interrupted = 0
  const shared = rows.filter((r) => r.clientId !== clientId && r.shared)
  const others = new Set(shared.map((r) => r.clientId))
  for (const r of rows) {
    if (r.clientId !== clientId) continue
    interruptedHours += r.interruptedHours
    censoredHours += r.censoredHours
    interrupted += r.interrupted
  }
  for (const r of others.size < MIN_AGREEING ? [] : shared) {
    const scale = Math.min(1, ONE_LIFE_HOURS / Math.max(1e-9, r.interruptedHours + r.censoredHours))
    interruptedHours += r.interruptedHours * scale
    censoredHours += r.censoredHours * scale
    interrupted += Math.min(1, r.interrupted)
  }
  return { interruptedHours, censoredHours, interrupted }
}
