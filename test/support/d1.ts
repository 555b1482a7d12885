/**
 * Reads the local D1 of a test control plane directly (what is stored, not what an API shows): the
 * SQLite file wrangler keeps under the persist dir, through Debian's `sqlite3` shell when the machine
 * has it (~10 ms a read), else through `wrangler d1 execute --local` (a runtime started per read,
 * 1.2 s of CPU: the tests poll, so CI installs `sqlite3`; a machine with only Node still runs them).
 */
import { execFile, execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from '../../scripts/fleet/control-plane'

const run = promisify(execFile)

const hasSqliteShell = (() => {
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

/**
 * Rows of one SQL statement run against the local D1 persisted in `persistDir`. The running Worker
 * may hold the database's lock for a moment: the shell waits for it (`.timeout`), wrangler's read is
 * tried again.
 */
export async function queryD1<Row = Record<string, unknown>>(
  persistDir: string,
  sql: string,
): Promise<Row[]> {
  return hasSqliteShell ? viaSqliteShell<Row>(persistDir, sql) : viaWrangler<Row>(persistDir, sql)
}

async function viaSqliteShell<Row>(persistDir: string, sql: string): Promise<Row[]> {
  const { stdout } = await run(
    'sqlite3',
    ['-json', '-cmd', '.timeout 10000', databaseFile(persistDir), sql],
    { maxBuffer: 256 * 1024 * 1024 },
  )
  return stdout.trim() ? (JSON.parse(stdout) as Row[]) : []
}

async function viaWrangler<Row>(persistDir: string, sql: string): Promise<Row[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { stdout } = await run(
        'bash',
        [
          join(ROOT, 'scripts', 'wrangler.sh'),
          ...['d1', 'execute', 'DB', '--local', '--persist-to', persistDir, '--json', '--command', sql],
        ],
        { cwd: ROOT, env: { ...process.env, CI: 'true' }, maxBuffer: 256 * 1024 * 1024 },
      )
      const [first] = JSON.parse(stdout) as { results: Row[] }[]
      return first?.results ?? []
    } catch (error) {
      if (attempt >= 10 || !String(error).includes('SQLITE_BUSY')) throw error
      await new Promise((r) => setTimeout(r, 100 * attempt))
    }
  }
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
