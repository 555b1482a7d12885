/** Agents and markets for the engine's worker tests: each test its own instance type, so markets never mix. */
import { and, eq } from 'drizzle-orm'
import { agents, commands, decisions } from '../../../src/db/schema'
import { call, db, newAgent, type TestAgent, type TestClient } from '../agent-api/helpers'

export const ON_DEMAND = 0.0416

/** A fresh instance type name, so that this test's pools are its own. */
export const freshType = () => `t9.${crypto.randomUUID().slice(0, 8)}`

/** Registers an agent on `mode` in `<type>.us-east-1a`. */
export function agentOn(type: string, mode: 'spot' | 'ondemand', version = '5.0.0', client?: TestClient) {
  return newAgent(client, { instance_type: type, mode, agent_version: version, az: 'us-east-1a' })
}

/** A 4.0.0-shaped pricing report of the three pools of `type` (prices by AZ letter) and on-demand. */
export async function reportPrices(
  a: TestAgent,
  type: string,
  prices: Record<'a' | 'b' | 'c', number>,
  mode = 'ondemand',
) {
  const res = await call(
    'POST',
    `/api/agents/${a.agentId}/pricing-report`,
    {
      instance: {
        instance_id: a.instanceId,
        instance_type: type,
        region: 'us-east-1',
        az: 'us-east-1a',
        mode,
        pool_id: `${type}.us-east-1a`,
      },
      pricing: {
        on_demand_price: ON_DEMAND,
        current_spot_price: prices.a,
        cheapest_pool: null,
        spot_pools: (['a', 'b', 'c'] as const).map((z) => ({
          pool_id: `${type}.us-east-1${z}`,
          instance_type: type,
          az: `us-east-1${z}`,
          price: prices[z],
        })),
        collected_at: new Date().toISOString(),
      },
    },
    a.client.auth,
  )
  if (res.status !== 200) throw new Error(`pricing-report: ${res.status} ${res.text}`)
}

/** Sets agent columns directly (settings a person would change). */
export async function setAgent(agentId: string, change: Partial<typeof agents.$inferInsert>) {
  await db().update(agents).set(change).where(eq(agents.id, agentId))
}

export async function loadAgent(agentId: string) {
  const [row] = await db().select().from(agents).where(eq(agents.id, agentId))
  return row!
}

export const switchCommands = (agentId: string) =>
  db()
    .select()
    .from(commands)
    .where(and(eq(commands.agentId, agentId), eq(commands.commandType, 'switch')))

export const decisionsOf = (agentId: string) =>
  db().select().from(decisions).where(eq(decisions.agentId, agentId))
