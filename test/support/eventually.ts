/** Waiting for an expected state by polling it, with a bounded deadline (tests never sleep blindly). */

export interface EventuallyOptions {
  timeoutMs?: number
  intervalMs?: number
  /** Named in the error when the deadline passes. */
  what: string
}

/** What a probe returns while the state is not there yet. */
type NotYet = undefined | null | false | 0 | ''

/**
 * Calls `probe` until it returns a truthy value, and returns that value.
 * Errors thrown by `probe` count as "not yet"; the last one is reported when time runs out.
 */
export async function eventually<T>(probe: () => Promise<T> | T, options: EventuallyOptions): Promise<Exclude<T, NotYet>> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  let lastError: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value) return value as Exclude<T, NotYet>
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : ''
      throw new Error(`timed out waiting for ${options.what}${cause}`)
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200))
  }
}
