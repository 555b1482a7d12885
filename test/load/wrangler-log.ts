/** Reads wrangler dev's debug log (WRANGLER_LOG_PATH under the persist dir) for what it did to the Worker. */
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** How many times wrangler dev (re)loaded the Worker in this persist dir: once per start when nothing reloads it. */
export async function workerLoads(persistDir: string): Promise<number> {
  const dir = join(persistDir, 'wrangler-logs')
  const files = await readdir(dir).catch(() => [])
  let loads = 0
  // grep, not readFile: the debug log of a long run outgrows a JS string.
  for (const file of files) {
    const { stdout } = await run('grep', ['-c', '"type":"reloadStart"', join(dir, file)]).catch(() => ({ stdout: '0' }))
    loads += Number(stdout.trim())
  }
  return loads
}

/**
 * The port of the Worker's runtime (behind wrangler's proxy) as the latest wrangler dev logged it;
 * null until it has. Log files are named by start time: the last one is the running wrangler's.
 */
export async function runtimePort(persistDir: string): Promise<number | null> {
  const dir = join(persistDir, 'wrangler-logs')
  const latest = (await readdir(dir).catch(() => [])).sort().at(-1)
  if (!latest) return null
  const text = await readFile(join(dir, latest), 'utf8')
  const matches = [...text.matchAll(/"userWorkerUrl":\{"protocol":"http:","hostname":"127\.0\.0\.1","port":"(\d+)"/g)]
  const port = matches.at(-1)?.[1]
  return port ? Number(port) : null
}
