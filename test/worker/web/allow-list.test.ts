import { SELF } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, auditLog, instances } from '../../../src/db/schema'
import { db, get, seedClient, seedFleet, seedUser, send } from './seed'

const config = (agentId: string) => `/api/client/agents/${agentId}/config`

/** The agent's stored allow-list and one threshold sent beside it (to see that nothing was written). */
async function stored(agentId: string) {
  const [row] = await db()
    .select({ list: agents.allowedInstanceTypes, minSavings: agents.minSavingsPercent })
    .from(agents)
    .where(eq(agents.id, agentId))
  return row
}

/** An owner's agent on t3.medium (x86_64, Nitro). */
async function ownersAgent() {
  const client = await seedClient()
  const { agentId, instanceId } = await seedFleet(client.id)
  const owner = await seedUser(client.id, 'owner')
  return { client, agentId, instanceId, owner }
}

describe('the allow-list of instance types (client API)', () => {
  it('stores a list, shows it back in the settings, the agent and the audit log, and null returns to the default rule', async () => {
    const { agentId, owner } = await ownersAgent()
    const res = await send('POST', config(agentId), owner.headers, {
      allowedInstanceTypes: ['m5.large', 'm6i.large', 'm5.large'],
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ settings: { allowedInstanceTypes: ['m5.large', 'm6i.large'] } })
    expect((await stored(agentId))?.list).toEqual(['m5.large', 'm6i.large'])
    const detail = (await (await get(`/api/client/agents/${agentId}`, owner.headers)).json()) as {
      allowedInstanceTypes: string[] | null
    }
    expect(detail.allowedInstanceTypes).toEqual(['m5.large', 'm6i.large'])

    const cleared = await send('POST', config(agentId), owner.headers, { allowedInstanceTypes: null })
    expect(cleared.status).toBe(200)
    expect((await stored(agentId))?.list).toBeNull()
    const audit = await db().select().from(auditLog).where(eq(auditLog.targetId, agentId))
    expect(audit.map((a) => [a.before, a.after])).toEqual(
      expect.arrayContaining([
        [{ allowedInstanceTypes: null }, { allowedInstanceTypes: ['m5.large', 'm6i.large'] }],
        [{ allowedInstanceTypes: ['m5.large', 'm6i.large'] }, { allowedInstanceTypes: null }],
      ]),
    )
  })

  it('answers 400 JSON naming the entry for an unknown type, an empty list and a type the image cannot boot; nothing is written', async () => {
    const { agentId, owner } = await ownersAgent()
    const cases: [unknown, string, RegExp][] = [
      [['m6i.large', 'x9.huge'], 'allowedInstanceTypes.1', /not in the shipped instance-type table/],
      [[], 'allowedInstanceTypes', /send null to return to the default rule/],
      [
        ['m6i.large', 'm6g.large'],
        'allowedInstanceTypes.1',
        /m6g.large is arm64; the workload's image boots x86_64/,
      ],
      ['m6i.large', 'allowedInstanceTypes', /.+/],
    ]
    for (const [list, field, message] of cases) {
      const res = await send('POST', config(agentId), owner.headers, {
        allowedInstanceTypes: list,
        minSavingsPercent: 42,
      })
      expect(res.status, JSON.stringify(list)).toBe(400)
      const body = (await res.json()) as { code: string; fields: { field: string; message: string }[] }
      expect(body.code).toBe('VALIDATION')
      expect(body.fields).toContainEqual({ field, message: expect.stringMatching(message) })
      expect(await stored(agentId)).toEqual({ list: null, minSavings: null })
    }
  })

  it("refuses a Nitro type for a workload whose image only proves a Xen type's drivers", async () => {
    const { agentId, instanceId, owner } = await ownersAgent()
    await db()
      .update(instances)
      .set({ instanceType: 't2.medium' })
      .where(eq(instances.instanceId, instanceId))
    const res = await send('POST', config(agentId), owner.headers, { allowedInstanceTypes: ['m5.large'] })
    expect(res.status).toBe(400)
    expect(JSON.stringify(await res.json())).toContain(
      "m5.large needs the ENA driver, which the workload's image lacks",
    )
    expect((await stored(agentId))?.list).toBeNull()
    // Its base type, once recorded, is what the image is known to boot.
    await db().update(agents).set({ baseInstanceType: 'm5.large' }).where(eq(agents.id, agentId))
    expect(
      (await send('POST', config(agentId), owner.headers, { allowedInstanceTypes: ['m6i.large'] })).status,
    ).toBe(200)
  })

  it('refuses a list while the agent has no known instance type: what its image boots is unknown', async () => {
    const { agentId, instanceId, owner } = await ownersAgent()
    await db().update(instances).set({ instanceType: null }).where(eq(instances.instanceId, instanceId))
    const res = await send('POST', config(agentId), owner.headers, { allowedInstanceTypes: ['m6i.large'] })
    expect(res.status).toBe(400)
    expect(JSON.stringify(await res.json())).toContain("the agent's instance type is not known yet")
    expect((await send('POST', config(agentId), owner.headers, { allowedInstanceTypes: null })).status).toBe(
      200,
    )
  })

  it("keeps tenants apart: another client's owner gets 404 and a viewer 403, nothing written", async () => {
    const { client, agentId } = await ownersAgent()
    const other = await seedClient()
    const stranger = await seedUser(other.id, 'owner')
    const viewer = await seedUser(client.id, 'viewer')
    const body = { allowedInstanceTypes: ['m6i.large'] }
    const across = await send('POST', config(agentId), stranger.headers, body)
    expect(across.status).toBe(404)
    expect(await across.json()).toMatchObject({ code: 'NOT_FOUND' })
    expect((await send('POST', config(agentId), viewer.headers, body)).status).toBe(403)
    expect((await stored(agentId))?.list).toBeNull()
  })

  it('is documented in the OpenAPI body of the settings route', async () => {
    const doc = JSON.stringify(await (await SELF.fetch('http://x/api/openapi.json')).json())
    expect(doc).toContain('allowedInstanceTypes')
  })
})
