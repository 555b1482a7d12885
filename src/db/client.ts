import { drizzle } from 'drizzle-orm/d1'
import { assertDistinctBatchColumns } from './batch-columns'
import * as schema from './schema'

/** A drizzle handle over the D1 binding whose every batch is checked for clashing column names. */
export function database(d1: D1Database) {
  const db = drizzle(d1, { schema })
  const batch = db.batch.bind(db)
  db.batch = async (queries) => {
    assertDistinctBatchColumns(queries)
    return batch(queries)
  }
  return db
}

export type Database = ReturnType<typeof database>
