/** Looking up a known pool by id (choosing one is the engine's: engine/choose-pool.ts, flows/pools.ts). */
import { eq } from 'drizzle-orm'
import type { Database } from '../client'
import { pools } from '../schema'

/** A known pool of this type and region (for a pool the client chose), or null. */
export async function findPool(db: Database, poolId: string) {
  const [pool] = await db.select().from(pools).where(eq(pools.id, poolId)).limit(1)
  return pool ?? null
}
