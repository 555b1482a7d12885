/**
 * Engine parameter versions as stored (flows/engine-params.ts writes them): the active one (what the
 * engine and GET config use), the shadow one, and the list for the admin pages.
 */
import { desc, eq } from 'drizzle-orm'
import { DEFAULT_VERSION, resolveParams, type ParamsVersion } from '../../engine/params'
import type { Database } from '../client'
import { engineParams } from '../schema'

type Row = typeof engineParams.$inferSelect

function toVersion(row: Row): ParamsVersion {
  return { version: row.version, params: resolveParams(row.params) }
}

/** The active version (DEFAULT_VERSION when none was activated). */
export async function activeParams(db: Database): Promise<ParamsVersion> {
  const [row] = await db.select().from(engineParams).where(eq(engineParams.status, 'active')).limit(1)
  return row ? toVersion(row) : DEFAULT_VERSION
}

/** The version running in shadow, or null. */
export async function shadowParams(db: Database): Promise<ParamsVersion | null> {
  const [row] = await db.select().from(engineParams).where(eq(engineParams.status, 'shadow')).limit(1)
  return row ? toVersion(row) : null
}

export async function listVersions(db: Database): Promise<Row[]> {
  return db.select().from(engineParams).orderBy(desc(engineParams.version))
}

export async function findVersion(db: Database, version: number): Promise<Row | null> {
  const [row] = await db.select().from(engineParams).where(eq(engineParams.version, version)).limit(1)
  return row ?? null
}
