/** D1 binds at most 100 parameters per statement: multi-row inserts go in chunks under that bound. */
export const MAX_BOUND_PARAMS = 100

/** The rows split into chunks of at most MAX_BOUND_PARAMS values, `columns` values a row. */
export function chunksOfRows<T>(rows: readonly T[], columns: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_BOUND_PARAMS / columns))
  const chunks: T[][] = []
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size))
  return chunks
}
