/**
 * Reads the running control plane's local D1 directly (what is stored, not what an API shows), through a
 * Miniflare of its own bound to the same persist dir: one batch of reads takes tens of ms, where
 * `wrangler d1 execute` (test/support/d1.ts) starts a runtime per call (1-4 s, 80-320 simulated seconds
 * at 80×). It only reads, except `corrupt` (the soak's --inject-divergence).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { ROOT } from '../fleet/control-plane'
import type { D1Snapshot } from './snapshot'

export interface D1Reader {
  /** Every row the checker needs of one client. */
  snapshot(clientId: string): Promise<D1Snapshot>
  /** Runs one write statement (used only to inject a divergence on purpose). */
  corrupt(sql: string, ...params: unknown[]): Promise<number>
  close(): Promise<void>
}

/** The D1 of wrangler.toml (`DB`) under `persistDir` (wrangler's --persist-to). */
export async function openD1Reader(persistDir: string): Promise<D1Reader> {
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
  const db = await mf.getD1Database('DB')
  return {
    async snapshot(clientId) {
      const read = (sql: string) => db.prepare(sql).bind(clientId)
      const results = await db.batch([
        read(`select id, logical_agent_id as logicalAgentId, instance_id as instanceId, status, agent_version as agentVersion,
                auto_terminate_enabled as autoTerminateEnabled, terminate_wait_seconds as terminateWaitSeconds, created_at as createdAt
              from agents where client_id = ?1`),
        read(`select agent_id as agentId, instance_id as instanceId, status, mode, created_at as createdAt, terminated_at as terminatedAt
              from instances where client_id = ?1`),
        read(
          `select id, agent_id as agentId, instance_id as instanceId, status, created_at as createdAt from replicas where client_id = ?1`,
        ),
        read(`select id, agent_id as agentId, command_type as commandType, status, terminate_wait_seconds as terminateWaitSeconds,
                created_at as createdAt, finished_at as finishedAt, expires_at as expiresAt
              from commands where client_id = ?1`),
        read(`select id, agent_id as agentId, command_id as commandId, trigger, old_instance_id as oldInstanceId,
                new_instance_id as newInstanceId, received_at as receivedAt
              from switches where client_id = ?1`),
        read(
          `select agent_id as agentId, kind, severity, created_at as createdAt, message from notifications where client_id = ?1`,
        ),
        read(`select agent_id as agentId, instance_id as instanceId, role, mode, pool_id as poolId, instance_type as instanceType,
                region, started_at as startedAt, ended_at as endedAt
              from usage_segments where client_id = ?1`),
        // Prices are the market's, whoever reported them: every row (the ledger picks its pools).
        db
          .prepare(`select pool_id as poolId, observed_at as at, price from spot_prices where ?1 is not null`)
          .bind(clientId),
        db
          .prepare(
            `select instance_type as instanceType, region, observed_at as at, price from ondemand_prices where ?1 is not null`,
          )
          .bind(clientId),
      ])
      const [
        agents,
        instances,
        replicas,
        commands,
        switches,
        notifications,
        segments,
        spotPrices,
        onDemandPrices,
      ] = results.map((r) => r.results as never[])
      return {
        agents: agents!.map((a: D1Snapshot['agents'][number]) => ({
          ...a,
          autoTerminateEnabled: Boolean(a.autoTerminateEnabled),
        })),
        instances: instances!,
        replicas: replicas!,
        commands: commands!,
        switches: switches!,
        notifications: notifications!,
        segments: segments!,
        spotPrices: spotPrices!,
        onDemandPrices: onDemandPrices!,
      }
    },
    async corrupt(sql, ...params) {
      const result = await db
        .prepare(sql)
        .bind(...params)
        .run()
      return result.meta.changes ?? 0
    },
    close: () => mf.dispose(),
  }
}
