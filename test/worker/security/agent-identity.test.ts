/**
 * Issue 12 finding 3: one fleet-wide token made any instance holding it any agent. A 5.x agent proves
 * its instance with the signed identity document and gets an agent token; each attack below fails and
 * writes nothing.
 */
import { env } from 'cloudflare:test'
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { certificatesOf, verifyIdentityDocument } from '../../../src/auth/instance-identity'
import { REVOKE_AFTER_END_MS } from '../../../src/auth/agent-tokens'
import { CRON_HOURLY } from '../../../src/cron'
import { agents, agentTokens, cronRuns, instances } from '../../../src/db/schema'
import { runScheduled } from '../../../src/scheduled'
import { sessionOf } from '../../../src/session/stub'
import { ADMIN, call, db, newAgent, newClient, tableCounts } from '../agent-api/helpers'
import { AGENT_ROUTES, bodyOf, pathOf } from '../agent-api/routes'
import {
  documentOf,
  newInstance,
  registerVerified,
  registrationOf,
  signatureOf,
  untrustedKey,
} from './identity-documents'

const REGISTER = '/api/agents/register'

describe('a verified registration', () => {
  it('answers an agent token, stores only its hash, and shows the agent verified', async () => {
    const client = await newClient()
    const instance = newInstance()
    const res = await call('POST', REGISTER, await registrationOf(instance, 'web-1'), client.auth)
    expect(res.status).toBe(200)
    expect(res.json.identity).toBe('verified')
    expect(res.json.agent_token).toMatch(/^sga_/)
    const [row] = await db().select().from(agentTokens).where(eq(agentTokens.agentId, res.json.agent_id))
    expect(row).toMatchObject({ clientId: client.id, ...instance })
    expect(row!.tokenHash).not.toContain(res.json.agent_token)
    const list = await call('GET', `/api/client/${client.id}/agents`, undefined, {
      Authorization: `Bearer ${env.ADMIN_TOKEN}`,
    })
    expect(list.json.find((a: { id: string }) => a.id === res.json.agent_id)?.identity).toBe('verified')
    const beat = await call(
      'POST',
      `/api/agents/${res.json.agent_id}/heartbeat`,
      { status: 'online' },
      {
        Authorization: `Bearer ${res.json.agent_token}`,
      },
    )
    expect(beat.status).toBe(200)
  })

  it('a legacy (client token only) agent is shown unverified', async () => {
    const legacy = await newAgent()
    const [row] = await db().select().from(agents).where(eq(agents.id, legacy.agentId))
    expect(row!.identity).toBe('unverified')
  })
})

describe('the trust list', () => {
  it('verifies with a certificate given on one line (as `--var` passes it) and refuses with none', async () => {
    const instance = newInstance()
    const document = documentOf(instance)
    const signature = await signatureOf(document)
    const oneLine = certificatesOf(env.IID_TRUST_CERTS!.replace(/\s*\n\s*/g, ' '))
    expect(await verifyIdentityDocument(oneLine, document, signature)).toMatchObject({ ok: true })
    expect(await verifyIdentityDocument([], document, signature)).toEqual({ ok: false, reason: 'untrusted' })
  })
})

describe('forged and copied documents are refused, nothing written', () => {
  it('a document signed by a key nobody trusts', async () => {
    const client = await newClient()
    const instance = newInstance()
    const document = documentOf(instance)
    const body = await registrationOf(instance, 'forged', {
      signature: await signatureOf(document, await untrustedKey()),
    })
    const before = await tableCounts()
    const res = await call('POST', REGISTER, body, client.auth)
    expect([res.status, res.json.action]).toEqual([401, 'identity_invalid'])
    expect(await tableCounts()).toEqual(before)
  })

  it('a genuine signature over an edited document', async () => {
    const client = await newClient()
    const instance = newInstance()
    const signature = await signatureOf(documentOf(instance))
    const edited = documentOf(instance, { accountId: '999999999999' })
    const before = await tableCounts()
    const res = await call(
      'POST',
      REGISTER,
      await registrationOf(instance, 'edited', { document: edited, signature }),
      client.auth,
    )
    expect(res.status).toBe(401)
    expect(await tableCounts()).toEqual(before)
  })

  it("another instance's document", async () => {
    const client = await newClient()
    const theirs = newInstance()
    const mine = newInstance()
    const body = { ...(await registrationOf(theirs, 'other-instance')), instance_id: mine.instanceId }
    const before = await tableCounts()
    const res = await call('POST', REGISTER, body, client.auth)
    expect([res.status, res.json.action]).toEqual([403, 'identity_mismatch'])
    expect(await tableCounts()).toEqual(before)
  })

  it('a replayed document mints no second identity, under any logical id or client', async () => {
    const client = await newClient()
    const instance = newInstance()
    const first = await registerVerified(client, instance, 'replayed')
    const otherClient = await newClient()
    const before = await tableCounts()
    for (const [who, logicalId] of [
      [client, 'replayed'],
      [client, 'a-second-identity'],
      [otherClient, 'replayed'],
    ] as const) {
      const res = await call('POST', REGISTER, await registrationOf(instance, logicalId), who.auth)
      expect([logicalId, res.status, res.json.action, res.json.agent_token]).toEqual([
        logicalId,
        403,
        'identity_used',
        undefined,
      ])
    }
    expect(await tableCounts()).toEqual(before)
    // Its own agent token re-registers it (a restart), with no new token.
    const again = await call(
      'POST',
      REGISTER,
      await registrationOf(instance, 'replayed', { agentToken: first.token }),
      client.auth,
    )
    expect([again.status, again.json.agent_id, again.json.agent_token]).toEqual([
      200,
      first.agentId,
      undefined,
    ])
  })
})

describe("the operator's reset", () => {
  it('lets an instance that lost its token register again with its document', async () => {
    const client = await newClient()
    const instance = newInstance()
    const first = await registerVerified(client, instance, 'lost-state')
    const reset = await call('POST', `/api/admin/agents/${first.agentId}/reset-identity`, undefined, ADMIN)
    expect(reset.status).toBe(200)
    const old = await call('GET', `/api/agents/${first.agentId}/config`, undefined, first.auth)
    expect(old.status).toBe(401)
    const again = await registerVerified(client, instance, 'lost-state')
    expect([again.agentId, again.token === first.token]).toEqual([first.agentId, false])
  })

  it("is the operator's only: a client token is refused", async () => {
    const client = await newClient()
    const agent = await registerVerified(client, newInstance())
    const res = await call(
      'POST',
      `/api/admin/agents/${agent.agentId}/reset-identity`,
      undefined,
      client.auth,
    )
    expect(res.status).toBe(401)
  })
})

describe("a verified agent's routes take only its agent token", () => {
  it.each(AGENT_ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s: the client token is refused 403',
    async (_name, route) => {
      const client = await newClient()
      const agent = await registerVerified(client, newInstance())
      const ids = { replica: 'rep_unknown', command: 'cmd_unknown' }
      const before = await tableCounts()
      const headers = route.path.startsWith('/stream')
        ? { ...client.auth, Upgrade: 'websocket' }
        : client.auth
      const res = await call(route.method, pathOf(route, agent.agentId, ids), bodyOf(route, ids), headers)
      expect([res.status, res.json?.action]).toEqual([403, 'agent_token_required'])
      expect(await tableCounts()).toEqual(before)
    },
  )

  it("one agent's token is another agent's unknown agent (404), even in the same client", async () => {
    const client = await newClient()
    const mine = await registerVerified(client, newInstance())
    const other = await registerVerified(client, newInstance())
    for (const path of ['/config', '/pending-commands']) {
      const res = await call('GET', `/api/agents/${other.agentId}${path}`, undefined, mine.auth)
      expect([path, res.status]).toEqual([path, 404])
    }
    const beat = await call('POST', `/api/agents/${other.agentId}/heartbeat`, { status: 'online' }, mine.auth)
    expect(beat.status).toBe(404)
  })

  it('an agent token claims commands for its own instance only', async () => {
    const client = await newClient()
    const instance = newInstance()
    const agent = await registerVerified(client, instance)
    const elsewhere = await call(
      'GET',
      `/api/agents/${agent.agentId}/pending-commands?instance_id=i-0000000000000dead`,
      undefined,
      agent.auth,
    )
    expect(elsewhere.status).toBe(403)
    const own = await call(
      'GET',
      `/api/agents/${agent.agentId}/pending-commands?instance_id=${instance.instanceId}`,
      undefined,
      agent.auth,
    )
    expect(own.status).toBe(200)
  })
})

describe('a logical id a verified agent holds', () => {
  it('is refused to a legacy client-token registration, nothing written', async () => {
    const client = await newClient()
    const agent = await registerVerified(client, newInstance())
    const before = await tableCounts()
    const res = await call(
      'POST',
      REGISTER,
      {
        instance_id: newInstance().instanceId,
        instance_type: 't3.medium',
        region: 'us-east-1',
        az: 'us-east-1a',
        agent_version: '4.0.0',
        logical_agent_id: agent.logicalId,
      },
      client.auth,
    )
    expect([res.status, res.json.action]).toEqual([403, 'identity_required'])
    expect(await tableCounts()).toEqual(before)
  })

  it("moves to a switch's new instance of the same AWS account, with a token of its own", async () => {
    const client = await newClient()
    const from = newInstance('111111111111')
    const old = await registerVerified(client, from)
    const to = newInstance('111111111111')
    // It boots before the switch is reported: it waits while the old agent is online.
    const early = await call('POST', REGISTER, await registrationOf(to, old.logicalId), client.auth)
    expect([early.status, early.json.action]).toEqual([409, 'standby'])
    const side = { instance_type: 't3.medium', region: 'us-east-1', mode: 'spot' }
    const report = await call(
      'POST',
      `/api/agents/${old.agentId}/switch-report`,
      {
        trigger: 'manual',
        old_instance: { ...side, instance_id: from.instanceId, az: 'us-east-1a' },
        new_instance: { ...side, instance_id: to.instanceId, az: 'us-east-1a' },
        timing: { traffic_switched_at: new Date().toISOString() },
      },
      old.auth,
    )
    expect(report.status).toBe(201)
    const moved = await registerVerified(client, to, old.logicalId)
    expect(moved.agentId).toBe(old.agentId)
    expect(moved.token).not.toBe(old.token)
    const [row] = await db().select().from(agents).where(eq(agents.id, old.agentId))
    expect(row!.instanceId).not.toBeNull()
  })

  it('is refused to an instance of another AWS account, nothing written', async () => {
    const client = await newClient()
    const agent = await registerVerified(client, newInstance('111111111111'))
    const before = await tableCounts()
    const res = await call(
      'POST',
      REGISTER,
      await registrationOf(newInstance('222222222222'), agent.logicalId),
      client.auth,
    )
    expect([res.status, res.json.action]).toEqual([403, 'identity_account'])
    expect(await tableCounts()).toEqual(before)
  })
})

describe("a legacy agent's lease", () => {
  it('is not handed to another instance than the one its record is bound to', async () => {
    const legacy = await newAgent()
    const session = sessionOf(env, legacy.agentId)
    const ref = { clientId: legacy.client.id, agentId: legacy.agentId, agentVersion: '4.0.0' }
    const elsewhere = await session.enqueue({
      ...ref,
      instanceId: 'i-0000000000000beef',
      commandType: 'switch',
      targetMode: 'ondemand',
      targetPoolId: null,
      terminateWaitSeconds: 300,
      priority: 50,
      source: 'manual',
      dedupeKey: 'elsewhere',
    })
    expect(elsewhere).toMatchObject({ ok: true })
    const poll = (query = '') =>
      call('GET', `/api/agents/${legacy.agentId}/pending-commands${query}`, undefined, legacy.client.auth)
    expect((await poll()).json).toEqual([])
    const own = await session.enqueue({
      ...ref,
      instanceId: legacy.instanceId,
      commandType: 'switch',
      targetMode: 'ondemand',
      targetPoolId: null,
      terminateWaitSeconds: 300,
      priority: 50,
      source: 'manual',
      dedupeKey: 'own',
    })
    expect(own.ok).toBe(true)
    // A poll naming another instance gets nothing; the agent's own poll gets its command.
    expect((await poll('?instance_id=i-0000000000000beef')).json).toEqual([])
    expect((await poll()).json).toHaveLength(1)
  })
})

describe("an ended instance's agent token", () => {
  it('is revoked an hour after the end by the hourly job, and its document registers no more', async () => {
    const client = await newClient()
    const endedLongAgo = newInstance()
    const endedJustNow = newInstance()
    const dead = await registerVerified(client, endedLongAgo, 'ended-long-ago')
    const late = await registerVerified(client, endedJustNow, 'ended-just-now')
    const now = Date.now()
    const end = (instanceId: string, at: number) =>
      db()
        .update(instances)
        .set({ status: 'terminated', terminatedAt: at })
        .where(and(eq(instances.clientId, client.id), eq(instances.instanceId, instanceId)))
    await end(endedLongAgo.instanceId, now - REVOKE_AFTER_END_MS - 60_000)
    await end(endedJustNow.instanceId, now - 60_000)

    await runScheduled(CRON_HOURLY, env, now)

    const [job] = await db().select().from(cronRuns).where(eq(cronRuns.job, 'agent-tokens'))
    expect([job!.ok, JSON.parse(job!.detail!).revoked]).toEqual([true, 1])
    const refused = await call('GET', `/api/agents/${dead.agentId}/config`, undefined, dead.auth)
    expect([refused.status, refused.json.error]).toEqual([401, 'agent token revoked: its instance ended'])
    // A late report of the agent that just ended is still taken.
    expect((await call('GET', `/api/agents/${late.agentId}/config`, undefined, late.auth)).status).toBe(200)
    // The document (copied off the dead instance) mints nothing, with or without the token.
    const before = await tableCounts()
    for (const agentToken of [undefined, dead.token]) {
      const res = await call(
        'POST',
        REGISTER,
        await registrationOf(endedLongAgo, 'ended-long-ago', { agentToken }),
        client.auth,
      )
      expect([res.status, res.json.action, res.json.agent_token]).toEqual([403, 'identity_ended', undefined])
    }
    expect(await tableCounts()).toEqual(before)
  })
})
