/**
 * Two reports of one replica racing (its launch and its launch command both report; the outbox
 * retries): each decides its move on a read, and the compare-and-set write must not lose the later
 * one. A `ready` decided on a read of `launching`, landing after another request moved the replica
 * to `syncing`, changed nothing and was answered as stored: the replica stayed `syncing` for good
 * (the e2e rebalance test timed out waiting for it under CI load).
 */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { replicas } from '../../../src/db/schema'
import { moveReplica } from '../../../src/flows/replicas/store'
import { loadAgent } from '../engine/market'
import { call, db, newAgent } from './helpers'

async function launchingReplica(clientId: string, agentId: string, parentInstanceId: string) {
  const at = Date.now() - 60_000
  const [row] = await db()
    .insert(replicas)
    .values({
      id: `rep_${crypto.randomUUID().replaceAll('-', '')}`,
      clientId,
      agentId,
      replicaType: 'emergency',
      status: 'launching',
      poolId: 't3.medium.us-east-1b',
      instanceType: 't3.medium',
      region: 'us-east-1',
      az: 'us-east-1b',
      parentInstanceId,
      createdAt: at,
      updatedAt: at,
    })
    .returning()
  return row!
}

describe('a replica report decided on a stale read', () => {
  it('is decided again on the fresh row: ready lands after a concurrent launch report', async () => {
    const a = await newAgent()
    const stale = await launchingReplica(a.client.id, a.agentId, a.instanceId)
    const instanceId = `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
    // The concurrent report: the launch's instance id (launching → syncing).
    const launched = await call(
      'PUT',
      `/api/agents/${a.agentId}/replicas/${stale.id}`,
      { instance_id: instanceId },
      a.client.auth,
    )
    expect(launched.json).toMatchObject({ status: 'syncing' })

    const moved = await moveReplica(db(), await loadAgent(a.agentId), stale, 'ready', {}, Date.now())
    expect(moved).toEqual({ ok: true, changed: true })
    const [row] = await db().select().from(replicas).where(eq(replicas.id, stale.id))
    expect(row).toMatchObject({ status: 'ready', instanceId })
    expect(row!.readyAt).not.toBeNull()
  })
})
