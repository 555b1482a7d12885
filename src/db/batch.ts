/** Several D1 writes that must land together (D1 has no interactive transactions). */
import type { BatchItem } from 'drizzle-orm/batch'
import type { Database } from './client'

/** Runs the statements as one D1 batch (atomic); nothing when the list is empty. */
export async function runBatch(db: Database, statements: BatchItem<'sqlite'>[]): Promise<void> {
  const [first, ...rest] = statements
  if (!first) return
  await db.batch([first, ...rest])
}
