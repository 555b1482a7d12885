/** Reads wrangler dev's debug log (WRANGLER_LOG_PATH under the persist dir) for what it did to the Worker. */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** How many times wrangler dev (re)loaded the Worker in this persist dir: once per start when nothing reloads it. */
export async function workerLoads(persistDir: string): Promise<number> {
  const dir = join(persistDir, 'wrangler-logs')
  const files = await readdir(dir).catch(() => [])
  let loads = 0
  for (const file of files) loads += (await readFile(join(dir, file), 'utf8')).split('"type":"reloadStart"').length - 1
  return loads
}
