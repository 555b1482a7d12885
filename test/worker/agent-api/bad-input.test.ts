/**
 * Bad input of any kind (malformed JSON, wrong types, missing fields, huge bodies) gets a 4xx JSON
 * answer and changes nothing in D1 (property-based: fast-check generates the bodies).
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, newAgent, seedFreshPools, tableCounts, type TestAgent } from './helpers'
import { AGENT_ROUTES, bodyOf, pathOf, RegisterBody, type AgentRoute } from './routes'
import { vector } from './vectors'

const RUNS = 20

/** Text that is not JSON (an empty body means `{}`, so it is left out). */
const malformedJson = fc
  .string({ maxLength: 200 })
  .filter((s) => {
    if (s.trim() === '') return false
    try {
      JSON.parse(s)
      return false
    } catch {
      return true
    }
  })
  .map((s) => ({ raw: s }))

/** JSON that is not an object: every body of the agent API is one. */
const notAnObject = fc
  .oneof(
    fc.array(fc.jsonValue(), { maxLength: 5 }),
    fc.string(),
    fc.double({ noNaN: true }),
    fc.boolean(),
    fc.constant(null),
  )
  .map((v) => ({ raw: JSON.stringify(v) }))

/** A body the route's own schema rejects: random JSON, or its valid body with one key replaced. */
function invalidFor(route: AgentRoute) {
  const schema = route.schema!
  const valid = route.body as Record<string, unknown>
  // The schema's own keys too: a body of unknown keys only is valid (extra keys are ignored).
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape ?? {}
  const keys = [...new Set([...Object.keys(valid), ...Object.keys(shape)])]
  const mutated = fc
    .record({ key: fc.constantFrom(...keys, 'instance_id', 'status'), value: fc.jsonValue() })
    .map(({ key, value }) => ({ ...valid, [key]: value }))
  const random = fc.dictionary(fc.constantFrom(...keys, 'x'), fc.jsonValue(), { maxKeys: 4 })
  return fc
    .oneof(mutated, random)
    .filter((body) => !schema.safeParse(body).success)
    .map((body) => ({ raw: JSON.stringify(body) }))
}

async function assertRejected(method: string, path: string, raw: string, headers: Record<string, string>) {
  const res = await call(method, path, raw, headers)
  if (
    res.status < 400 ||
    res.status >= 500 ||
    !res.contentType.includes('application/json') ||
    typeof res.json?.error !== 'string'
  ) {
    throw new Error(
      `${method} ${path} with ${raw.slice(0, 200)} answered ${res.status} ${res.text.slice(0, 200)}`,
    )
  }
  return res.status
}

describe('bad input to the agent API', () => {
  const withBodies = AGENT_ROUTES.filter((r) => r.body !== undefined)

  let agent: TestAgent
  let ids: { replica: string; command: string }
  beforeAll(async () => {
    agent = await newAgent(undefined, { agent_version: '5.0.0' })
    await seedFreshPools()
    const replica = await call(
      'POST',
      `/api/agents/${agent.agentId}/create-emergency-replica`,
      { ...vector('emergencyRebalanceV4'), instance_id: agent.instanceId },
      agent.client.auth,
    )
    ids = { replica: replica.json.replica_id as string, command: 'cmd_unknown' }
  })

  it.each(withBodies.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s: malformed or wrongly typed bodies get a 4xx JSON answer and change nothing',
    async (_name, route) => {
      const path = pathOf(route, agent.agentId, ids)
      const before = await tableCounts()
      const bodies = route.schema
        ? fc.oneof(malformedJson, notAnObject, invalidFor(route))
        : fc.oneof(malformedJson, notAnObject)
      await fc.assert(
        fc.asyncProperty(bodies, async ({ raw }) => {
          await assertRejected(route.method, path, raw, agent.client.auth)
        }),
        { numRuns: RUNS },
      )
      const huge = JSON.stringify({ ...(bodyOf(route, ids) as object), padding: 'x'.repeat(300 * 1024) })
      expect(await assertRejected(route.method, path, huge, agent.client.auth)).toBe(413)
      expect(await tableCounts()).toEqual(before)
    },
    60_000,
  )

  it('register: malformed, wrongly typed and huge bodies are rejected before anything is written', async () => {
    const before = await tableCounts()
    const valid = vector('registerV4')
    const invalid = fc
      .record({ key: fc.constantFrom(...Object.keys(valid)), value: fc.jsonValue() })
      .map(({ key, value }) => ({ ...valid, [key]: value }))
      .filter((b) => !RegisterBody.safeParse(b).success)
      .map((b) => ({ raw: JSON.stringify(b) }))
    await fc.assert(
      fc.asyncProperty(fc.oneof(malformedJson, notAnObject, invalid), async ({ raw }) => {
        await assertRejected('POST', '/api/agents/register', raw, agent.client.auth)
      }),
      { numRuns: RUNS * 2 },
    )
    const huge = JSON.stringify({ ...valid, padding: 'x'.repeat(300 * 1024) })
    expect(await assertRejected('POST', '/api/agents/register', huge, agent.client.auth)).toBe(413)
    expect(await tableCounts()).toEqual(before)
  }, 60_000)

  it('GET replicas: an unknown status or include_terminated value is 400', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .string({ minLength: 1, maxLength: 20 })
          .filter((s) => !['launching', 'syncing', 'ready', 'promoted', 'failed', 'terminated'].includes(s)),
        async (status) => {
          const res = await call(
            'GET',
            `/api/agents/${agent.agentId}/replicas?status=${encodeURIComponent(status)}`,
            undefined,
            agent.client.auth,
          )
          expect(res.status).toBe(400)
        },
      ),
      { numRuns: RUNS },
    )
    const res = await call(
      'GET',
      `/api/agents/${agent.agentId}/replicas?include_terminated=maybe`,
      undefined,
      agent.client.auth,
    )
    expect(res.status).toBe(400)
  }, 60_000)
})
