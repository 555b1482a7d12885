/** Reads the local D1 of a test control plane directly (what is stored, not what an API shows). */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from '../../scripts/fleet/control-plane'

const run = promisify(execFile)

/**
 * Rows of one SQL statement run against the local D1 persisted in `persistDir`. The running Worker
 * may hold the database's lock for a moment (SQLITE_BUSY): such a read is tried again.
 */
export async function queryD1<Row = Record<string, unknown>>(persistDir: string, sql: string): Promise<Row[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { stdout } = await run(
        'bash',
        [join(ROOT, 'scripts', 'wrangler.sh'), 'd1', 'execute', 'DB', '--local', '--persist-to', persistDir, '--json', '--command', sql],
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

/** A value quoted for a SQL string literal ('' for each '). */
export const sql = (text: string) => text.replace(/'/g, "''")
