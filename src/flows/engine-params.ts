/**
 * Engine parameter versions in D1.
 * One version is `active` (what the engine and GET config use), at most one `shadow` (decisions stored,
 * no commands); earlier actives are `retired`, new ones `draft`. With no active row, DEFAULT_PARAMS
 * (version 0) apply.
 * Writes: `engine_params`.
 */
import { and, desc, eq, isNotNull, ne } from 'drizzle-orm'
import type { Database } from '../db/client'
import { engineParams } from '../db/schema'
import { activeParams } from '../db/queries/engine-params'

/** Stores a new draft (params already validated); returns its number. */
export async function createVersion(
  db: Database,
  params: unknown,
  note: string | null,
  by: string | null,
  now: number,
) {
  const [last] = await db
    .select({ version: engineParams.version })
    .from(engineParams)
    .orderBy(desc(engineParams.version))
    .limit(1)
  const version = (last?.version ?? 0) + 1
  await db
    .insert(engineParams)
    .values({ version, params, status: 'draft', note, createdBy: by, createdAt: now })
  return version
}

/** Makes a version active; the previous active one is retired. */
export async function activateVersion(db: Database, version: number, now: number): Promise<void> {
  await db.batch([
    db
      .update(engineParams)
      .set({ status: 'retired' })
      .where(and(eq(engineParams.status, 'active'), ne(engineParams.version, version))),
    db
      .update(engineParams)
      .set({ status: 'active', activatedAt: now })
      .where(eq(engineParams.version, version)),
  ])
}

/**
 * Re-activates the version that was active before the current one (the most recently activated retired
 * version); the current one is retired. Null when there is none to go back to.
 */
export async function rollBack(db: Database, now: number): Promise<number | null> {
  const current = await activeParams(db)
  const [previous] = await db
    .select()
    .from(engineParams)
    .where(
      and(
        eq(engineParams.status, 'retired'),
        isNotNull(engineParams.activatedAt),
        ne(engineParams.version, current.version),
      ),
    )
    .orderBy(desc(engineParams.activatedAt), desc(engineParams.version))
    .limit(1)
  if (!previous) return null
  await db.batch([
    db
      .update(engineParams)
      .set({ status: 'retired', activatedAt: null })
      .where(eq(engineParams.version, current.version)),
    db
      .update(engineParams)
      .set({ status: 'active', activatedAt: now })
      .where(eq(engineParams.version, previous.version)),
  ])
  return previous.version
}

/** Runs a version in shadow (replacing any other shadow), or stops shadowing with null. */
export async function setShadow(db: Database, version: number | null): Promise<void> {
  await db.batch([
    db.update(engineParams).set({ status: 'draft' }).where(eq(engineParams.status, 'shadow')),
    ...(version === null
      ? []
      : [
          db
            .update(engineParams)
            .set({ status: 'shadow' })
            .where(and(eq(engineParams.version, version), ne(engineParams.status, 'active'))),
        ]),
  ])
}
