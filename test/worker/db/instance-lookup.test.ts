/**
 * An operator's force-switch finds an instance by its EC2 id across clients. Without an index of its
 * own that lookup scanned every instance row: at 10,000 agents each force-switch read 10,000 rows
 * (socket-scale's switch tail, docs/benchmarks.md).
 */
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { database } from '../../../src/db/client'
import { activeInstancesByEc2Id } from '../../../src/db/queries/instance-by-ec2-id'

async function planOf(clientId: string | null): Promise<string> {
  const { sql, params } = activeInstancesByEc2Id(database(env.DB), 'i-0abc', clientId).toSQL()
  const rows = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>()
  return rows.results.map((r) => r.detail).join('\n')
}

describe('the lookup of an instance by its EC2 id', () => {
  it("searches an index for an operator's lookup across clients, never scans the instances", async () => {
    const plan = await planOf(null)
    expect(plan).toMatch(/SEARCH instances USING INDEX instances_instance/)
    expect(plan).not.toMatch(/SCAN instances/)
  })

  it("searches the client's own index for a client's lookup", async () => {
    expect(await planOf('client-1')).toMatch(
      /SEARCH instances USING INDEX instances_(client_instance|instance)/,
    )
  })
})
