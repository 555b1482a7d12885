/** Another client's agent is answered exactly like an unknown agent, and nothing changes. */
import { describe, expect, it } from 'vitest'
import { call, newAgent, seedFreshPools, tableCounts } from './helpers'
import { AGENT_ROUTES, bodyOf, pathOf } from './routes'
import { vector } from './vectors'

/** A victim agent with a replica and a command, so that every id in the paths exists. */
async function victim() {
  const agent = await newAgent(undefined, { agent_version: '5.0.0' })
  const { auth } = agent.client
  await seedFreshPools(agent.client.id)
  const replica = await call(
    'POST',
    `/api/agents/${agent.agentId}/create-emergency-replica`,
    { ...vector('emergencyRebalanceV4'), instance_id: agent.instanceId },
    auth,
  )
  expect(replica.status).toBe(201)
  return { agent, ids: { replica: replica.json.replica_id as string, command: 'cmd_unknown' } }
}

describe('tenant isolation of /api/agents/:agentId/*', () => {
  it.each(AGENT_ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s: another client gets the unknown-agent answer',
    async (_name, route) => {
      const { agent, ids } = await victim()
      const intruder = await newAgent()
      const before = await tableCounts()
      const headers = { ...intruder.client.auth, Upgrade: 'websocket' }
      const theirs = await call(route.method, pathOf(route, agent.agentId, ids), bodyOf(route, ids), headers)
      const unknown = await call(route.method, pathOf(route, 'agt_unknown', ids), bodyOf(route, ids), headers)
      expect(theirs.status).toBe(404)
      expect(theirs.contentType).toContain('application/json')
      expect({ ...theirs.json, request_id: null }).toEqual({ ...unknown.json, request_id: null })
      expect(await tableCounts()).toEqual(before)
    },
  )

  it("another client's replica id under one's own agent is not found either", async () => {
    const { ids } = await victim()
    const intruder = await newAgent()
    const before = await tableCounts()
    for (const route of AGENT_ROUTES.filter((r) => r.path.includes('{replica}'))) {
      const res = await call(
        route.method,
        pathOf(route, intruder.agentId, ids),
        bodyOf(route, ids),
        intruder.client.auth,
      )
      expect([route.path, res.status, res.json?.error]).toEqual([route.path, 404, 'replica not found'])
    }
    expect(await tableCounts()).toEqual(before)
  })

  it('no token or an unknown token is 401 on every route', async () => {
    const { agent, ids } = await victim()
    for (const route of AGENT_ROUTES) {
      const none = await call(route.method, pathOf(route, agent.agentId, ids), bodyOf(route, ids))
      const wrong = await call(route.method, pathOf(route, agent.agentId, ids), bodyOf(route, ids), {
        Authorization: 'Bearer sgc_not-a-token',
      })
      expect([route.path, none.status, wrong.status]).toEqual([route.path, 401, 401])
    }
  })
})
