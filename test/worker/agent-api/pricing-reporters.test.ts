/** One pricing reporter per (client, region, instance type), told in the config and re-elected. */
import { env } from 'cloudflare:test'
import { and, eq, ne } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents, pricingReporters } from '../../../src/db/schema'
import { reelectPricingReporters } from '../../../src/flows/pricing-reporters'
import { connect } from '../session/seed'
import { ADMIN, call, db, newAgent, newClient, type TestAgent, type TestClient } from './helpers'

async function roleOf(a: TestAgent): Promise<boolean | undefined> {
  const res = await call('GET', `/api/agents/${a.agentId}/config`, undefined, a.client.auth)
  expect(res.status).toBe(200)
  return res.json.pricing_reporter
}

/** Five 5.x agents of one client, all t3.medium in us-east-1. */
async function fleetOfFive(client: TestClient): Promise<TestAgent[]> {
  const fleet: TestAgent[] = []
  for (let i = 0; i < 5; i++) fleet.push(await newAgent(client, { agent_version: '5.0.0' }))
  return fleet
}

async function reporterOf(fleet: TestAgent[]): Promise<TestAgent[]> {
  const roles = await Promise.all(fleet.map(roleOf))
  return fleet.filter((_, k) => roles[k] === true)
}

describe('pricing reporters', () => {
  it('tells exactly one agent of a client, region and type to report, from registration on', async () => {
    const client = await newClient()
    const first = await call(
      'POST',
      '/api/agents/register',
      {
        instance_id: 'i-0aaaaaaaaaaaaaaa1',
        instance_type: 't3.medium',
        region: 'us-east-1',
        az: 'us-east-1a',
        mode: 'spot',
        agent_version: '5.0.0',
        logical_agent_id: 'first',
      },
      client.auth,
    )
    expect(first.json.config.pricing_reporter).toBe(true)
    const fleet = await fleetOfFive(client)
    expect(await Promise.all(fleet.map(roleOf))).toEqual([false, false, false, false, false])
    // Another type, another region: a group of its own.
    const other = await newAgent(client, { agent_version: '5.0.0', instance_type: 'm5.large' })
    expect(await roleOf(other)).toBe(true)
    const west = await newAgent(client, { agent_version: '5.0.0', region: 'us-west-2', az: 'us-west-2a' })
    expect(await roleOf(west)).toBe(true)
    // Another client of the same pools reports its own.
    const [stranger] = await fleetOfFive(await newClient())
    expect(await roleOf(stranger!)).toBe(true)
  })

  it('says nothing to an installed agent, which keeps reporting as it always did', async () => {
    const client = await newClient()
    const legacy = await newAgent(client)
    expect(await roleOf(legacy)).toBeUndefined()
    // It holds no role: the first 5.x agent still becomes the reporter.
    const [modern] = await fleetOfFive(client)
    expect(await roleOf(modern!)).toBe(true)
  })

  it('hands the role to the next agent when the reporter goes offline, and tells both', async () => {
    const client = await newClient()
    const fleet = await fleetOfFive(client)
    const [reporter] = await reporterOf(fleet)
    const rest = fleet.filter((a) => a !== reporter)
    const sockets = await Promise.all(
      fleet.map(async (a) => {
        const link = await connect({
          agentId: a.agentId,
          instanceId: a.instanceId,
          token: client.token,
          headers: client.auth,
          clientId: client.id,
          agentVersion: '5.0.0',
        })
        expect(await link.next()).toMatchObject({ type: 'hello' })
        return link
      }),
    )
    // What the agent's object writes to D1 after two minutes of silence.
    await db().update(agents).set({ status: 'offline' }).where(eq(agents.id, reporter!.agentId))
    const pass = await reelectPricingReporters(env, db(), Date.now())
    expect(pass.failed).toBe(0)
    const next = await reporterOf(rest)
    expect(next).toHaveLength(1)
    expect(await roleOf(reporter!)).toBe(false)
    // The two whose role changed heard of it, and only they.
    for (const k of [fleet.indexOf(reporter!), fleet.indexOf(next[0]!)])
      expect(await sockets[k]!.next()).toEqual({ type: 'config_changed' })
    expect(sockets.map((s) => s.unread())).toEqual([0, 0, 0, 0, 0])
    // A second pass changes nothing and tells no one.
    await reelectPricingReporters(env, db(), Date.now())
    expect(await reporterOf(fleet)).toEqual(next)
    expect(sockets.map((s) => s.unread())).toEqual([0, 0, 0, 0, 0])
    sockets.forEach((s) => s.close())
  })

  it('re-elects when the reporter is deleted, and leaves no reporter where no agent can report', async () => {
    const client = await newClient()
    const fleet = await fleetOfFive(client)
    const [reporter] = await reporterOf(fleet)
    const res = await call('DELETE', `/api/client/agents/${reporter!.agentId}`, undefined, ADMIN)
    expect(res.status).toBe(200)
    await reelectPricingReporters(env, db(), Date.now())
    const next = await reporterOf(fleet.filter((a) => a !== reporter))
    expect(next).toHaveLength(1)
    // Every agent offline: the group has no reporter, and the first back takes the role when it asks.
    await db()
      .update(agents)
      .set({ status: 'offline' })
      .where(and(eq(agents.clientId, client.id), ne(agents.status, 'deleted')))
    await reelectPricingReporters(env, db(), Date.now())
    expect(
      await db().select().from(pricingReporters).where(eq(pricingReporters.clientId, client.id)),
    ).toEqual([])
    const back = fleet.find((a) => a !== reporter && a !== next[0])!
    await db().update(agents).set({ status: 'online' }).where(eq(agents.id, back.agentId))
    expect(await roleOf(back)).toBe(true)
  })
})
