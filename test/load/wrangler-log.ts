/** Reads the test control plane's log (stateDir/wrangler.log) for what wrangler did to the Worker. */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** How many times the runtime was (re)loaded: once per start of wrangler dev when nothing reloads it. */
export async function workerLoads(stateDir: string): Promise<number> {
  const log = await readFile(join(stateDir, 'wrangler.log'), 'utf8')
  return log.split('\n').filter((line) => line.startsWith('runtime loaded on port ')).length
}
