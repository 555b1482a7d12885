/**
 * What an agent's Durable Object writes to D1, each call one `db.batch`. The object is the one writer
 * of `commands` (the history of its queue), of the agent's liveness (`agents.status`,
 * `agents.last_heartbeat_at`, the instance facts a heartbeat reports) and of the `agent_offline` /
 * `agent_online` notifications, whose statements the tables' writers (flows/agents.ts, instances.ts,
 * notifications.ts) build.
 * Writes: `commands`.
 */
import type { BatchItem } from 'drizzle-orm/batch'
import type { Database } from '../db/client'
import { commands } from '../db/schema'
import type { PendingLivenessWrite } from './liveness'
import type { QueuedCommand } from './types'
import type { Owner } from './owner'
import { agentLivenessUpdate } from '../flows/agents'
import { recordHeartbeatFacts } from '../flows/instances'
import { notifyClientOnce } from '../flows/notifications'

type Statement = BatchItem<'sqlite'>

/** Upserts the current state of each command into the history. */
export function commandHistory(db: Database, owner: Owner, changed: readonly QueuedCommand[]): Statement[] {
  return changed.map((c) => {
    const wire = c.wire as Record<string, unknown>
    const row = {
      id: c.id,
      clientId: owner.clientId,
      agentId: owner.agentId,
      instanceId: c.instanceId,
      commandType: c.commandType,
      targetMode: typeof wire.target_mode === 'string' ? wire.target_mode : null,
      targetPoolId: typeof wire.target_pool_id === 'string' ? wire.target_pool_id : null,
      priority: c.priority,
      terminateWaitSeconds:
        typeof wire.terminate_wait_seconds === 'number' ? wire.terminate_wait_seconds : null,
      payload: c.payload,
      source: c.source,
      status: c.status,
      message: c.message,
      createdAt: c.createdAt,
      expiresAt: c.expiresAt,
      deliveredAt: c.deliveredAt,
      ackedAt: c.ackedAt,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      updatedAt: c.updatedAt,
    }
    return db
      .insert(commands)
      .values(row)
      .onConflictDoUpdate({
        target: commands.id,
        set: {
          status: row.status,
          message: row.message,
          deliveredAt: row.deliveredAt,
          ackedAt: row.ackedAt,
          startedAt: row.startedAt,
          finishedAt: row.finishedAt,
          updatedAt: row.updatedAt,
        },
      })
  })
}

/** The agent row, instance facts and notification of a liveness step (as of its time `at`). */
export function livenessWrites(db: Database, owner: Owner, pending: PendingLivenessWrite): Statement[] {
  const statements: Statement[] = []
  const { write, notify, at: now } = pending
  if (write) {
    statements.push(agentLivenessUpdate(db, owner, write, now))
    const facts = write.facts
    if (facts?.instanceId) {
      const set = {
        ...(facts.instanceType != null && { instanceType: facts.instanceType }),
        ...(facts.mode != null && { mode: facts.mode }),
        ...(facts.az != null && { az: facts.az }),
      }
      if (Object.keys(set).length > 0) {
        statements.push(recordHeartbeatFacts(db, owner, facts.instanceId, set, now))
      }
    }
  }
  if (notify) {
    statements.push(
      notifyClientOnce(db, pending.notificationId, {
        clientId: owner.clientId,
        agentId: owner.agentId,
        kind: notify === 'offline' ? 'agent_offline' : 'agent_online',
        severity: notify === 'offline' ? 'warning' : 'success',
        message:
          notify === 'offline'
            ? `Agent ${owner.agentId} went offline (no heartbeat for 2 minutes or shut down)`
            : `Agent ${owner.agentId} is back online`,
        createdAt: now,
      }),
    )
  }
  return statements
}
