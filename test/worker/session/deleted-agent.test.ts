import { env, runDurableObjectAlarm, SELF } from 'cloudflare:test'
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { agents } from '../../../src/db/schema'
import { sessionOf } from '../../../src/session/stub'
import { agentRow, api, connect, db, enqueued, historyOf, post, seedAgent, type SeededAgent } from './seed'

const ADMIN = { Authorization: 'Bearer test-admin-token' }

describe('a deleted agent', () => {
  it('still receives and reports its uninstall on its command routes; everything else is 404', async () => {
    const agent = await seedAgent('5.0.0')
    const pendingSwitch = await enqueued(agent)
    const deleted = await SELF.fetch(`http://x/api/client/agents/${agent.agentId}`, {
      method: 'DELETE',
      headers: ADMIN,
    })
    expect(deleted.status).toBe(200)
    const { uninstallCommandId } = (await deleted.json()) as { uninstallCommandId: string }
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'deleted' })

    // The push socket hands it the uninstall only.
    const link = await connect(agent)
    expect(await link.next()).toMatchObject({ type: 'hello' })
    expect(await link.next()).toMatchObject({
      type: 'command',
      command: { id: uninstallCommandId, command_type: 'uninstall' },
    })
    link.close()
    const pending = await api(agent, `/pending-commands?instance_id=${agent.instanceId}`)
    expect(pending.status).toBe(200)
    expect(((await pending.json()) as { id: string }[]).map((c) => c.id)).toEqual([uninstallCommandId])

    const claim = { instance_id: agent.instanceId }
    expect((await post(agent, `/commands/${uninstallCommandId}/ack`, claim)).status).toBe(200)
    expect((await post(agent, `/commands/${uninstallCommandId}/running`, claim)).status).toBe(200)
    const done = await post(agent, `/commands/${uninstallCommandId}/executed`, {
      success: true,
      message: 'removed',
    })
    expect(done.status).toBe(200)
    expect(await historyOf(uninstallCommandId)).toMatchObject({ status: 'completed', message: 'removed' })

    // Any other command, and every other route, answers like an unknown agent.
    expect((await post(agent, `/commands/${pendingSwitch}/ack`, claim)).status).toBe(404)
    expect((await post(agent, `/commands/${pendingSwitch}/executed`, { success: true })).status).toBe(404)
    expect(await historyOf(pendingSwitch)).toMatchObject({ status: 'cancelled' })
    expect((await api(agent, '/config')).status).toBe(404)
    expect((await post(agent, '/heartbeat', { status: 'online', monitored_instances: [] })).status).toBe(404)
    expect((await post(agent, '/rebalance-recommendation', {})).status).toBe(404)
  })

  it('that registers again (a restart) is answered 410 with its uninstall, which it fetches, runs and reports; it stays deleted', async () => {
    const agent = await seedAgent('5.0.0')
    const uninstallCommandId = await deleteAgent(agent)
    const refused = await register(agent, agent.instanceId)
    expect(refused.status).toBe(410)
    expect(await refused.json()).toMatchObject({
      code: 'GONE',
      action: 'uninstall',
      agent_id: agent.agentId,
      command_id: uninstallCommandId,
    })

    const pending = await api(agent, `/pending-commands?instance_id=${agent.instanceId}`)
    expect(((await pending.json()) as { id: string }[]).map((c) => c.id)).toEqual([uninstallCommandId])
    const claim = { instance_id: agent.instanceId }
    expect((await post(agent, `/commands/${uninstallCommandId}/ack`, claim)).status).toBe(200)
    expect(
      (await post(agent, `/commands/${uninstallCommandId}/executed`, { success: true, message: 'removed' }))
        .status,
    ).toBe(200)
    expect(await historyOf(uninstallCommandId)).toMatchObject({ status: 'completed' })
    expect(await agentRow(agent.agentId)).toMatchObject({ status: 'deleted', instanceId: agent.instanceId })
  })

  it('queues its uninstall again when the first expired unclaimed or named another instance', async () => {
    const agent = await seedAgent('5.0.0')
    // Deleted while offline for longer than an uninstall waits: it expired before the agent came back.
    const first = await enqueued(agent, {
      commandType: 'uninstall',
      dedupeKey: 'uninstall',
      expiresInSeconds: 0,
    })
    await sessionOf(env, agent.agentId).retire(agent)
    await db()
      .update(agents)
      .set({ status: 'deleted', deletedAt: Date.now() })
      .where(eq(agents.id, agent.agentId))
    await runDurableObjectAlarm(sessionOf(env, agent.agentId))
    await expect.poll(async () => (await historyOf(first))?.status).toBe('expired')

    const again = (await (await register(agent, agent.instanceId)).json()) as { command_id: string }
    expect(again.command_id).not.toBe(first)
    expect(await historyOf(again.command_id)).toMatchObject({
      commandType: 'uninstall',
      instanceId: agent.instanceId,
    })
    // A copy of the agent on another instance gets its own, and a repeat the same one.
    const elsewhere = 'i-0fedcba9876543210'
    const other = (await (await register(agent, elsewhere)).json()) as { command_id: string }
    expect(other.command_id).not.toBe(again.command_id)
    expect(
      ((await register(agent, elsewhere).then((r) => r.json())) as { command_id: string }).command_id,
    ).toBe(other.command_id)
    const pending = await api(agent, `/pending-commands?instance_id=${elsewhere}`)
    expect(((await pending.json()) as { id: string }[]).map((c) => c.id)).toEqual([other.command_id])
  })

  it('answers an installed 4.0.0 agent 410 with no command (it knows no uninstall)', async () => {
    const agent = await seedAgent('4.0.0')
    await deleteAgent(agent)
    const refused = await register(agent, agent.instanceId, '4.0.0')
    expect(refused.status).toBe(410)
    expect(await refused.json()).toMatchObject({ action: 'uninstall', command_id: null })
  })

  it('is still 404 on its command routes to another client', async () => {
    const agent = await seedAgent('5.0.0')
    const stranger = await seedAgent('5.0.0')
    await SELF.fetch(`http://x/api/client/agents/${agent.agentId}`, { method: 'DELETE', headers: ADMIN })
    const asStranger = { ...stranger, agentId: agent.agentId }
    expect((await api(asStranger, `/pending-commands?instance_id=${agent.instanceId}`)).status).toBe(404)
    const socket = await SELF.fetch(
      `http://x/api/agents/${agent.agentId}/stream?instance_id=${agent.instanceId}`,
      {
        headers: { Upgrade: 'websocket', Authorization: `Bearer ${stranger.token}` },
      },
    )
    expect(socket.status).toBe(404)
  })
})

/** Deletes the agent as a person does (DELETE /api/client/agents/:id); the uninstall it queued. */
async function deleteAgent(agent: SeededAgent): Promise<string> {
  const deleted = await SELF.fetch(`http://x/api/client/agents/${agent.agentId}`, {
    method: 'DELETE',
    headers: ADMIN,
  })
  expect(deleted.status).toBe(200)
  return ((await deleted.json()) as { uninstallCommandId: string }).uninstallCommandId
}

/** The agent's registration from `instanceId`, as the agent sends it after a restart. */
function register(agent: SeededAgent, instanceId: string, version = agent.agentVersion) {
  return SELF.fetch('http://x/api/agents/register', {
    method: 'POST',
    headers: { ...agent.headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      logical_agent_id: `logical-${agent.agentId}`,
      instance_id: instanceId,
      instance_type: 't3.medium',
      region: 'us-east-1',
      az: 'us-east-1a',
      mode: 'spot',
      agent_version: version,
    }),
  })
}
