/** A client with an agent token and one agent on one instance, written straight into D1 with fresh ids. */
import { env, SELF } from 'cloudflare:test'
import { expect } from 'vitest'
import type { ServerMessage } from '../../../src/protocol'
import { eq } from 'drizzle-orm'
import { database } from '../../../src/db/client'
import { agents, clients, clientTokens, commands, instances, notifications } from '../../../src/db/schema'
import { newId, newToken, sha256Hex } from '../../../src/ids'
import { sessionOf } from '../../../src/session/stub'
import type { NewCommand } from '../../../src/session/types'

export const db = () => database(env.DB)

export interface SeededAgent {
  clientId: string
  agentId: string
  instanceId: string
  token: string
  headers: Record<string, string>
  agentVersion: string
}

/** `register: false` leaves the agent's object unaware of it (as for an agent registered before it existed). */
export async function seedAgent(agentVersion = '4.0.0', register = true): Promise<SeededAgent> {
  const now = Date.now()
  const clientId = newId('cli')
  const agentId = newId('agt')
  const instanceId = `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
  const token = newToken('sgc')
  await db().batch([
    db()
      .insert(clients)
      .values({ id: clientId, name: `Client ${clientId}`, createdAt: now, updatedAt: now }),
    db()
      .insert(clientTokens)
      .values({
        id: newId('tok'),
        clientId,
        tokenHash: await sha256Hex(token),
        prefix: token.slice(0, 8),
        createdAt: now,
      }),
    db()
      .insert(agents)
      .values({
        id: agentId,
        clientId,
        logicalAgentId: `logical-${agentId}`,
        agentVersion,
        instanceId,
        createdAt: now,
        updatedAt: now,
      }),
    db()
      .insert(instances)
      .values({
        id: newId('ins'),
        clientId,
        agentId,
        instanceId,
        instanceType: 't3.medium',
        region: 'us-east-1',
        az: 'us-east-1a',
        mode: 'spot',
        poolId: 't3.medium.us-east-1a',
        createdAt: now,
        updatedAt: now,
      }),
  ])
  if (register) await sessionOf(env, agentId).registered({ clientId, agentId, instanceId, agentVersion })
  return { clientId, agentId, instanceId, token, headers: { Authorization: `Bearer ${token}` }, agentVersion }
}

/** A switch for the agent's instance through the object's RPC (what force-switch does). */
export function enqueueSwitch(agent: SeededAgent, overrides: Partial<NewCommand> = {}) {
  return sessionOf(env, agent.agentId).enqueue({
    clientId: agent.clientId,
    agentId: agent.agentId,
    agentVersion: agent.agentVersion,
    instanceId: agent.instanceId,
    commandType: 'switch',
    targetMode: 'ondemand',
    targetPoolId: null,
    priority: 75,
    terminateWaitSeconds: 300,
    source: 'manual',
    ...overrides,
  })
}

export async function enqueued(agent: SeededAgent, overrides: Partial<NewCommand> = {}): Promise<string> {
  const result = await enqueueSwitch(agent, overrides)
  if (!result.ok) throw new Error(`enqueue refused: ${JSON.stringify(result)}`)
  return result.commandId
}

export async function historyOf(commandId: string) {
  const [row] = await db().select().from(commands).where(eq(commands.id, commandId))
  return row
}

export async function agentRow(agentId: string) {
  const [row] = await db().select().from(agents).where(eq(agents.id, agentId))
  return row
}

export function notificationsOf(agentId: string) {
  return db()
    .select()
    .from(notifications)
    .where(eq(notifications.agentId, agentId))
    .orderBy(notifications.createdAt)
}

export function api(agent: SeededAgent, path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers)
  headers.set('Authorization', `Bearer ${agent.token}`)
  if (init.body) headers.set('Content-Type', 'application/json')
  return SELF.fetch(`http://x/api/agents/${agent.agentId}${path}`, { ...init, headers })
}

export function post(agent: SeededAgent, path: string, body: unknown) {
  return api(agent, path, { method: 'POST', body: JSON.stringify(body) })
}

/** A connected agent socket that queues what it receives. */
export async function connect(agent: SeededAgent, instanceId = agent.instanceId) {
  const res = await SELF.fetch(`http://x/api/agents/${agent.agentId}/stream?instance_id=${instanceId}`, {
    headers: { Upgrade: 'websocket', Authorization: `Bearer ${agent.token}` },
  })
  expect(res.status).toBe(101)
  const socket = res.webSocket!
  const inbox: ServerMessage[] = []
  const waiters: (() => void)[] = []
  socket.addEventListener('message', (event) => {
    inbox.push(JSON.parse(String(event.data)) as ServerMessage)
    waiters.splice(0).forEach((wake) => wake())
  })
  socket.accept()
  return {
    socket,
    /** The next message (waits for it to arrive). */
    async next(): Promise<ServerMessage> {
      while (inbox.length === 0) await new Promise<void>((wake) => waiters.push(wake))
      return inbox.shift()!
    },
    /** Messages received and not read yet. */
    unread: () => inbox.length,
    send: (message: unknown) => socket.send(JSON.stringify(message)),
    close: () => socket.close(1000, 'bye'),
  }
}
