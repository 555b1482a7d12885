/**
 * The Durable Object's own SQLite storage: the live command queue and a few facts about the agent.
 * Owns the object's tables `commands` and `facts`. Each saved change bumps a row's `version`; rows
 * whose version is ahead of `synced_version` are still to be copied to D1's history, and so are the
 * liveness writes of the fact `liveness_unsynced`.
 */
import type { Command, CommandStatus, CommandType } from '../protocol'
import { UNKNOWN_LIVENESS, type Liveness, type PendingLivenessWrite } from './liveness'
import type { Owner } from './owner'
import type { QueuedCommand } from './types'

/** Finished commands stay this long in the object (D1 keeps the history), ms. */
const KEEP_FINISHED_MS = 24 * 60 * 60_000

export function createTables(sql: SqlStorage): void {
  sql.exec(`
    CREATE TABLE IF NOT EXISTS commands (
      id TEXT PRIMARY KEY,
      command_type TEXT NOT NULL,
      instance_id TEXT,
      priority INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      status TEXT NOT NULL,
      dedupe_key TEXT,
      source TEXT NOT NULL,
      wire TEXT NOT NULL,
      payload TEXT,
      claimed_by TEXT,
      claimed_on TEXT,
      lease_until INTEGER,
      delivered_at INTEGER,
      acked_at INTEGER,
      started_at INTEGER,
      finished_at INTEGER,
      message TEXT,
      updated_at INTEGER NOT NULL,
      version INTEGER NOT NULL DEFAULT 1,
      synced_version INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS commands_open ON commands (finished_at, priority DESC, created_at);
    CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `)
}

type Row = Record<string, SqlStorageValue>

/** Commands not yet finished. */
export function openCommands(sql: SqlStorage): QueuedCommand[] {
  return sql.exec<Row>('SELECT * FROM commands WHERE finished_at IS NULL').toArray().map(toCommand)
}

export function commandById(sql: SqlStorage, id: string): QueuedCommand | null {
  const [row] = sql.exec<Row>('SELECT * FROM commands WHERE id = ?', id).toArray()
  return row ? toCommand(row) : null
}

/** Commands changed since they were last copied to D1, with the version being copied. */
export function unsyncedCommands(sql: SqlStorage): { command: QueuedCommand; version: number }[] {
  return sql
    .exec<Row>('SELECT * FROM commands WHERE version > synced_version ORDER BY updated_at LIMIT 50')
    .toArray()
    .map((row) => ({ command: toCommand(row), version: Number(row.version) }))
}

export function markSynced(
  sql: SqlStorage,
  synced: readonly { command: QueuedCommand; version: number }[],
): void {
  for (const { command, version } of synced) {
    sql.exec('UPDATE commands SET synced_version = MAX(synced_version, ?) WHERE id = ?', version, command.id)
  }
}

/**
 * What the alarm's due times need of the queue, in one read: the open commands, and whether a command
 * (open or finished) is still to be copied to D1.
 */
export function readQueueDue(sql: SqlStorage): { open: QueuedCommand[]; hasUnsynced: boolean } {
  const rows = sql
    .exec<Row>('SELECT * FROM commands WHERE finished_at IS NULL OR version > synced_version')
    .toArray()
  return {
    open: rows.filter((row) => row.finished_at === null).map(toCommand),
    hasUnsynced: rows.some((row) => Number(row.version) > Number(row.synced_version)),
  }
}

/** Command history or a liveness write still to be copied to D1 (the alarm retries). */
export function hasUnsynced(sql: SqlStorage): boolean {
  return (
    sql.exec('SELECT 1 FROM commands WHERE version > synced_version LIMIT 1').toArray().length > 0 ||
    readPendingLiveness(sql).length > 0
  )
}

/** Inserts or updates commands, each as a new version to copy to D1. */
export function saveCommands(sql: SqlStorage, commands: readonly QueuedCommand[]): void {
  for (const c of commands) {
    sql.exec(
      `INSERT INTO commands (id, command_type, instance_id, priority, created_at, expires_at, status, dedupe_key,
         source, wire, payload, claimed_by, claimed_on, lease_until, delivered_at, acked_at, started_at,
         finished_at, message, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, claimed_by = excluded.claimed_by,
         claimed_on = excluded.claimed_on, lease_until = excluded.lease_until,
         delivered_at = excluded.delivered_at, acked_at = excluded.acked_at, started_at = excluded.started_at,
         finished_at = excluded.finished_at, message = excluded.message, updated_at = excluded.updated_at,
         version = commands.version + 1`,
      c.id,
      c.commandType,
      c.instanceId,
      c.priority,
      c.createdAt,
      c.expiresAt,
      c.status,
      c.dedupeKey,
      c.source,
      JSON.stringify(c.wire),
      c.payload === null ? null : JSON.stringify(c.payload),
      c.claimedBy,
      c.claimedOn,
      c.leaseUntil,
      c.deliveredAt,
      c.ackedAt,
      c.startedAt,
      c.finishedAt,
      c.message,
      c.updatedAt,
    )
  }
}

/** Drops finished commands older than a day that D1 already has. */
export function pruneFinished(sql: SqlStorage, now: number): void {
  sql.exec('DELETE FROM commands WHERE finished_at < ? AND version = synced_version', now - KEEP_FINISHED_MS)
}

/** The agent's owner, liveness and the liveness writes D1 has not confirmed, in one read. */
export function readAgentFacts(sql: SqlStorage): {
  owner: Owner | null
  liveness: Liveness
  pendingLiveness: PendingLivenessWrite[]
} {
  const values = new Map(
    sql
      .exec<{ key: string; value: string }>(
        "SELECT key, value FROM facts WHERE key IN ('owner', 'liveness', 'liveness_unsynced')",
      )
      .toArray()
      .map(({ key, value }) => [key, JSON.parse(value) as unknown]),
  )
  return {
    owner: (values.get('owner') as Owner | undefined) ?? null,
    liveness: (values.get('liveness') as Liveness | undefined) ?? UNKNOWN_LIVENESS,
    pendingLiveness: (values.get('liveness_unsynced') as PendingLivenessWrite[] | undefined) ?? [],
  }
}

export function readOwner(sql: SqlStorage): Owner | null {
  return readFact<Owner>(sql, 'owner')
}

export function writeOwner(sql: SqlStorage, owner: Owner): void {
  writeFact(sql, 'owner', owner)
}

export function readLiveness(sql: SqlStorage): Liveness {
  return readFact<Liveness>(sql, 'liveness') ?? UNKNOWN_LIVENESS
}

export function writeLiveness(sql: SqlStorage, liveness: Liveness): void {
  writeFact(sql, 'liveness', liveness)
}

/** Liveness writes D1 has not confirmed yet, oldest first. */
export function readPendingLiveness(sql: SqlStorage): PendingLivenessWrite[] {
  return readFact<PendingLivenessWrite[]>(sql, 'liveness_unsynced') ?? []
}

export function addPendingLiveness(sql: SqlStorage, pending: PendingLivenessWrite): void {
  writeFact(sql, 'liveness_unsynced', [...readPendingLiveness(sql), pending])
}

/** Drops the oldest `count` pending liveness writes (D1 has them). */
export function dropPendingLiveness(sql: SqlStorage, count: number): void {
  writeFact(sql, 'liveness_unsynced', readPendingLiveness(sql).slice(count))
}

function readFact<T>(sql: SqlStorage, key: string): T | null {
  const [row] = sql.exec<{ value: string }>('SELECT value FROM facts WHERE key = ?', key).toArray()
  return row ? (JSON.parse(row.value) as T) : null
}

function writeFact(sql: SqlStorage, key: string, value: unknown): void {
  sql.exec('INSERT OR REPLACE INTO facts (key, value) VALUES (?, ?)', key, JSON.stringify(value))
}

function toCommand(row: Row): QueuedCommand {
  return {
    id: String(row.id),
    commandType: row.command_type as CommandType,
    instanceId: nullableText(row.instance_id),
    priority: Number(row.priority),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    status: row.status as CommandStatus,
    dedupeKey: nullableText(row.dedupe_key),
    source: row.source as QueuedCommand['source'],
    wire: JSON.parse(String(row.wire)) as Command,
    payload: row.payload === null ? null : (JSON.parse(String(row.payload)) as QueuedCommand['payload']),
    claimedBy: nullableText(row.claimed_by),
    claimedOn: nullableText(row.claimed_on),
    leaseUntil: nullableNumber(row.lease_until),
    deliveredAt: nullableNumber(row.delivered_at),
    ackedAt: nullableNumber(row.acked_at),
    startedAt: nullableNumber(row.started_at),
    finishedAt: nullableNumber(row.finished_at),
    message: nullableText(row.message),
    updatedAt: Number(row.updated_at),
  }
}

function nullableText(value: SqlStorageValue | undefined): string | null {
  return value == null ? null : String(value)
}

function nullableNumber(value: SqlStorageValue | undefined): number | null {
  return value == null ? null : Number(value)
}
