/** The price a placement pays, from the prices of its market. Pure. */

/** What a placement paid per hour: its pool's spot price on spot, on-demand otherwise (null: unknown mode). */
export function paidPrice(
  mode: string | null | undefined,
  spot: number | null,
  onDemand: number | null,
): number | null {
  if (mode === 'spot') return spot
  if (mode === 'ondemand') return onDemand
  return null
}
