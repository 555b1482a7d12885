/** One line of JSON on stderr for a failure nobody awaits (background follow-ups): what failed and where. */
export function logError(
  job: string,
  err: unknown,
  fields: Record<string, string | number | null> = {},
): void {
  console.error(
    JSON.stringify({
      level: 'error',
      job,
      ...fields,
      message: err instanceof Error ? err.message : String(err),
    }),
  )
}
