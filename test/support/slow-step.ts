/**
 * Runs a teardown step and says on stderr, every 30 s, that it is still waiting for it: a hook that
 * times out then names the step that hung (e2e afterAll hooks have timed out with nothing to go on).
 */
export async function slowStep<T>(what: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now()
  const report = setInterval(() => {
    console.error(`teardown: still waiting for ${what} after ${Math.round((Date.now() - started) / 1000)} s`)
  }, 30_000)
  try {
    return await run()
  } finally {
    clearInterval(report)
  }
}
