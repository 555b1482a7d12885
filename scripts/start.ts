/**
 * `npm start [-- --agents N --real-time=false --port P --state-dir D]`: SpotGuard on this machine —
 * the local D1 migrated, the control plane under wrangler dev (127.0.0.1:8787), ADMIN_TOKEN from
 * .dev.vars (written with a random one when missing), and a simulated fleet (`--agents 0`: none).
 * Ctrl-C or SIGTERM stops every process it started. It runs as `node --import tsx`, not under the tsx
 * command: that one relays a signal and SIGKILLs its child when the child has not said within 60 ms
 * that it got it (a busy event loop on a loaded machine), which would leave wrangler dev's own process
 * group running.
 */
import { parseStartOptions } from './fleet/args'
import { runLocal } from './fleet/local'

runLocal(parseStartOptions(process.argv.slice(2))).catch(async (error: unknown) => {
  process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
