import { env } from 'cloudflare:test'
import { eq, sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { database } from '../../../src/db/client'
import { agents, instances } from '../../../src/db/schema'

const db = () => database(env.DB)

describe('every D1 batch', () => {
  it('refuses a select with two output columns of one name before it runs', async () => {
    const d = db()
    const clash = d
      .select({ agentStatus: agents.status, status: instances.status, installedAt: instances.createdAt })
      .from(instances)
      .innerJoin(agents, eq(agents.id, instances.agentId))
    await expect(d.batch([clash])).rejects.toThrow(/two output columns named "status"/)
  })

  it('refuses two identical expressions and a column beside sql`${column}` of the same name', async () => {
    const d = db()
    const twice = d.select({ a: sql<number>`count(*)`, b: sql<number>`count(*)` }).from(agents)
    await expect(d.batch([twice])).rejects.toThrow(/"count\(\*\)"/)
    const wrapped = d
      .select({ a: agents.status, b: sql<string>`${instances.status}` })
      .from(instances)
      .innerJoin(agents, eq(agents.id, instances.agentId))
    await expect(d.batch([wrapped])).rejects.toThrow(/"status"/)
  })

  it('runs selects whose clashing names are aliased, and plain writes', async () => {
    const d = db()
    const aliased = d
      .select({ agentStatus: sql<string>`${agents.status}`.as('agent_status'), status: instances.status })
      .from(instances)
      .innerJoin(agents, eq(agents.id, instances.agentId))
    const [rows, deleted] = await d.batch([aliased, d.delete(agents).where(eq(agents.id, 'none'))])
    expect(rows).toEqual([])
    expect(deleted).toBeDefined()
  })
})
