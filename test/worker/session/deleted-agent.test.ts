import { SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { agentRow, api, connect, enqueued, historyOf, post, seedAgent } from './seed'

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
