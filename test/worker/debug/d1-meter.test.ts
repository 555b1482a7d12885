import { env, SELF } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { database } from '../../../src/db/client'
import { notifications } from '../../../src/db/schema'
import { meteredD1, readMeter, resetMeter } from '../../../src/db/d1-meter'
import { newId } from '../../../src/ids'

describe('the D1 meter', () => {
  it('sums rows_written of runs, batches and returning statements, by statement', async () => {
    const db = database(meteredD1({ ...env, D1_METER: 'on' } as typeof env))
    resetMeter()
    const row = (id: string) => ({
      id,
      clientId: 'c',
      kind: 'k',
      severity: 'info' as const,
      message: 'm',
      createdAt: 1,
    })
    const [a, b, c] = [newId('ntf'), newId('ntf'), newId('ntf')]
    await db.insert(notifications).values(row(a))
    await db.batch([
      db.insert(notifications).values(row(b)),
      db.update(notifications).set({ message: 'n' }).where(eq(notifications.id, a)),
    ])
    const returned = await db.insert(notifications).values(row(c)).returning({ id: notifications.id }).get()
    expect(returned).toEqual({ id: c })
    await db.select().from(notifications)
    const meter = readMeter()
    expect(meter.total).toBeGreaterThanOrEqual(4)
    expect(Object.keys(meter.byStatement).sort()).toEqual(['insert notifications', 'update notifications'])
    expect(meter.byStatement['insert notifications']! + meter.byStatement['update notifications']!).toBe(
      meter.total,
    )
  })

  it('leaves the binding alone and hides its route unless D1_METER is on', async () => {
    expect(meteredD1(env)).toBe(env.DB)
    const res = await SELF.fetch('http://x/__debug/d1-rows-written', {
      headers: { Authorization: 'Bearer test-admin-token' },
    })
    expect(res.status).toBe(404)
  })
})
