/**
 * Savings milestones a client is told of: the first time its lifetime savings (the ledger's daily
 * rollup) reach each amount. Pure; flows/ledger/milestones.ts reads the ledger and notifies.
 */

/** USD, ascending. */
export const SAVINGS_MILESTONES_USD = [1, 10, 100, 1_000, 10_000, 100_000] as const

/**
 * The milestone to tell of now, or null: the highest one `saved` (USD) reached above every milestone
 * already told (`told`). A client that passes several at once hears of the highest only, and a lower
 * one is never told after a higher one, so each is told at most once and in order.
 */
export function milestoneToTell(saved: number, told: readonly number[]): number | null {
  const floor = Math.max(0, ...told)
  const reached = SAVINGS_MILESTONES_USD.filter((m) => m <= saved && m > floor)
  return reached.at(-1) ?? null
}
