/** Bad input to register and to the command routes; see bad-input.ts. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { assertRejected, describeBadBodies, malformedJson, notAnObject, RUNS } from './bad-input'
import { call, newAgent, tableCounts } from './helpers'
import { AGENT_ROUTES, RegisterBody } from './routes'
import { vector } from './vectors'

describeBadBodies(
  'bad input to the command routes',
  AGENT_ROUTES.filter((r) =>
    ['/heartbeat', '/commands/{command}/executed', '/mark-command-executed'].includes(r.path),
  ),
)

describe('bad input to register and the replica list', () => {
  it('register: malformed, wrongly typed and huge bodies are rejected before anything is written', async () => {
    const agent = await newAgent()
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
    const agent = await newAgent()
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
