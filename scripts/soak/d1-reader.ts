/**
 * D1 as stored (not what an API shows), for the checker: the rows come from the Worker itself through
 * its soak-only route (`SOAK_READS=on`, src/routes/debug/soak-rows.ts), one batch in tens of ms. Reading the
 * SQLite file from a second runtime instead (`wrangler d1 execute`, 1-4 s a call, or a Miniflare of our
 * own) takes locks the Worker's writes then fail on (SQLITE_BUSY). `corrupt` writes from outside on
 * purpose, once, for --inject-divergence.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { ROOT } from '../fleet/control-plane'
import type { D1Snapshot } from './snapshot'

/** The Worker var that turns the soak's rows route on. */
export const SOAK_READS_VAR = { SOAK_READS: 'on' }

/** Every row the checker needs of one client; retried while the Worker restarts (up to `timeoutMs`). */
export async function readD1(
  url: string,
  adminToken: string,
  clientId: string,
  timeoutMs = 60_000,
): Promise<D1Snapshot> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const response = await fetch(`${url}/__debug/soak-rows/${clientId}`, {
      headers: { Authorization: `Bearer ${adminToken}` },
      signal: AbortSignal.timeout(30_000),
    }).catch((error: unknown) => error as Error)
    if (!(response instanceof Error) && response.ok) {
      const rows = (await response.json()) as D1Snapshot
      return {
        ...rows,
        agents: rows.agents.map((a) => ({ ...a, autoTerminateEnabled: Boolean(a.autoTerminateEnabled) })),
      }
    }
    const why =
      response instanceof Error ? response.message : `HTTP ${response.status} ${await response.text()}`
    if (Date.now() > deadline) throw new Error(`reading D1 through ${url}: ${why}`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

/**
 * Runs one write statement on the local D1 in `persistDir` from a Miniflare of its own (the Worker
 * must not help corrupt its own data); a write the Worker's lock refuses is tried again. Answers the
 * rows changed.
 */
export async function corruptD1(persistDir: string, sql: string, ...params: unknown[]): Promise<number> {
  const databaseId = /database_id\s*=\s*"([^"]+)"/.exec(
    readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'),
  )?.[1]
  if (!databaseId) throw new Error('wrangler.toml names no D1 database_id')
  const mf = new Miniflare({
    modules: true,
    script: 'export default {}',
    d1Databases: { DB: databaseId },
    d1Persist: join(persistDir, 'v3', 'd1'),
  })
  try {
    const db = await mf.getD1Database('DB')
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await db
          .prepare(sql)
          .bind(...params)
          .run()
        return result.meta.changes ?? 0
      } catch (error) {
        if (attempt >= 20) throw error
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt))
      }
    }
  } finally {
    await mf.dispose()
  }
}
