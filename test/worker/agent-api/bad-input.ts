/**
 * Bad input of any kind (malformed JSON, wrong types, missing fields, huge bodies) gets a 4xx JSON
 * answer and changes nothing in D1 (property-based: fast-check generates the bodies). Shared by the
 * bad-input-*.test.ts files, split because SELF.fetch slows down with every request a test file makes
 * (cloudflare/workers-sdk#15446): each file gets a fresh workerd.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { call, newAgent, seedFreshPools, tableCounts, type TestAgent } from './helpers'
import { bodyOf, pathOf, type AgentRoute } from './routes'
import { vector } from './vectors'

export const RUNS = 25

/** Text that is not JSON (an empty body means `{}`, so it is left out). */
export const malformedJson = fc
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
export const notAnObject = fc
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

export async function assertRejected(
  method: string,
  path: string,
  raw: string,
  headers: Record<string, string>,
) {
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

/** Bodies of every kind that the routes reject, each route against one agent with a replica. */
export function describeBadBodies(title: string, routes: AgentRoute[]): void {
  describe(title, () => {
    const withBodies = routes.filter((r) => r.body !== undefined)
    let agent: TestAgent
    let ids: { replica: string; command: string }
    beforeAll(async () => {
      agent = await newAgent(undefined, { agent_version: '5.0.0' })
      await seedFreshPools(agent.client.id)
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
  })
}
