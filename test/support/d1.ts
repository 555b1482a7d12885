/**
 * Reads the local D1 of a test control plane directly (what is stored, not what an API shows): the
 * SQLite file wrangler keeps under the persist dir, through the `sqlite3` shell (Debian's `sqlite3`).
 * `wrangler d1 execute --local` would start a runtime for each read, 1.2 s of CPU, and tests poll.
 */
import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * Rows of one SQL statement run against the local D1 persisted in `persistDir`. The running Worker
 * may hold the database's lock for a moment: the shell waits for it (`.timeout`).
 */
export async function queryD1<Row = Record<string, unknown>>(
  persistDir: string,
  sql: string,
): Promise<Row[]> {
  const { stdout } = await run(
    'sqlite3',
    ['-json', '-cmd', '.timeout 10000', databaseFile(persistDir), sql],
    {
      maxBuffer: 256 * 1024 * 1024,
    },
  )
  return stdout.trim() ? (JSON.parse(stdout) as Row[]) : []
}

/** The D1 database's SQLite file (wrangler's layout: one file per database beside miniflare's metadata). */
function databaseFile(persistDir: string): string {
  const dir = join(persistDir, 'v3', 'd1', 'miniflare-D1DatabaseObject')
  const files = readdirSync(dir).filter((name) => name.endsWith('.sqlite') && name !== 'metadata.sqlite')
  if (files.length !== 1)
    throw new Error(`expected one D1 database in ${dir}, found ${files.join(', ') || 'none'}`)
  return join(dir, files[0]!)
}

/** A value quoted for a SQL string literal ('' for each '). */
export const sql = (text: string) => text.replace(/'/g, "''")
