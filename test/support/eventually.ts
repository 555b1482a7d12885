/** Waiting for an expected state by polling it, with a bounded deadline (tests never sleep blindly). */

export interface EventuallyOptions {
  timeoutMs?: number
  intervalMs?: number
  /** Named in the error when the deadline passes. */
  what: string
}

/**
 * Calls `probe` until it returns a value other than undefined/false, and returns that value.
 * Errors thrown by `probe` count as "not yet"; the last one is reported when time runs out.
 */
export async function eventually<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, options: EventuallyOptions): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  let lastError: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined && value !== false) return value
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
