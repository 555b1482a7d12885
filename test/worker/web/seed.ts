/** Rows for the dashboard route tests, written straight into D1 with fresh ids. */
import { env, SELF } from 'cloudflare:test'
import { database } from '../../../src/db/client'
import {
  agents,
  apiTokens,
  clients,
  instances,
  ondemandPrices,
  pools,
  spotPrices,
  users,
} from '../../../src/db/schema'
import { newId, newToken, sha256Hex } from '../../../src/ids'

export const ADMIN = { Authorization: 'Bearer test-admin-token' }
export const db = () => database(env.DB)

export async function seedClient(name = `Client ${crypto.randomUUID().slice(0, 6)}`) {
  const id = newId('cli')
  const now = Date.now()
  await db()
    .insert(clients)
    .values({ id, name, email: `${id}@example.com`, status: 'active', createdAt: now, updatedAt: now })
  return { id, name }
}

/** A client user with a personal API token; returns bearer headers. */
export async function seedUser(clientId: string | null, role: 'admin' | 'owner' | 'viewer') {
  const userId = newId('usr')
  await db()
    .insert(users)
    .values({
      id: userId,
      email: `${userId}@example.com`,
      role,
      clientId,
      passwordHash: '!',
      passwordSalt: '!',
      createdAt: Date.now(),
    })
  const token = newToken('sgp')
  await db()
    .insert(apiTokens)
    .values({
      id: newId('tok'),
      userId,
      name: 'test',
      tokenHash: await sha256Hex(token),
      prefix: token.slice(0, 10),
      createdAt: Date.now(),
    })
  return { userId, headers: { Authorization: `Bearer ${token}` } }
}

/**
 * A 5.x agent of `clientId` on a t3.medium spot instance in pool `<fresh region>a` (its pool row too),
 * running since `startedAt`; no prices.
 */
export async function seedSpotInstance(clientId: string, startedAt: number, now = Date.now()) {
  const region = `r-${crypto.randomUUID().slice(0, 6)}`
  const type = 't3.medium'
  const poolId = `${type}.${region}a`
  const agentId = newId('agt')
  const instanceId = `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
  await db()
    .insert(agents)
    .values({
      id: agentId,
      clientId,
      logicalAgentId: `web-${agentId.slice(-6)}`,
      agentVersion: '5.0.0',
      instanceId,
      createdAt: startedAt,
      updatedAt: now,
    })
  await db()
    .insert(instances)
    .values({
      id: newId('ins'),
      clientId,
      agentId,
      instanceId,
      instanceType: type,
      region,
      az: `${region}a`,
      mode: 'spot',
      poolId,
      createdAt: startedAt,
      updatedAt: now,
    })
  await db()
    .insert(pools)
    .values({ id: poolId, instanceType: type, region, az: `${region}a`, createdAt: startedAt })
  return { agentId, instanceId, region, type, poolId }
}

/** An agent on a spot instance in pool t3.medium.<az>, with prices for two pools and on-demand. */
export async function seedFleet(clientId: string) {
  const now = Date.now()
  const agentId = newId('agt')
  const instanceId = `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
  const region = `r-${crypto.randomUUID().slice(0, 6)}`
  const type = 't3.medium'
  const poolA = `${type}.${region}a`
  const poolB = `${type}.${region}b`
  await db()
    .insert(agents)
    .values({
      id: agentId,
      clientId,
      logicalAgentId: `web-${agentId.slice(-6)}`,
      status: 'online',
      agentVersion: '5.0.0',
      instanceId,
      lastHeartbeatAt: now,
      createdAt: now,
      updatedAt: now,
    })
  await db()
    .insert(instances)
    .values({
      id: newId('ins'),
      clientId,
      agentId,
      instanceId,
      instanceType: type,
      region,
      az: `${region}a`,
      mode: 'spot',
      poolId: poolA,
      createdAt: now - 3600_000,
      updatedAt: now,
    })
  await db()
    .insert(pools)
    .values([
      { id: poolA, instanceType: type, region, az: `${region}a`, createdAt: now },
      { id: poolB, instanceType: type, region, az: `${region}b`, createdAt: now },
    ])
  await db()
    .insert(spotPrices)
    .values([
      { poolId: poolA, price: 0.02, observedAt: now - 20 * 3600_000 },
      { poolId: poolA, price: 0.015, observedAt: now - 2 * 3600_000 },
      { poolId: poolB, price: 0.012, observedAt: now - 10 * 3600_000 },
    ])
  await db()
    .insert(ondemandPrices)
    .values({ instanceType: type, region, price: 0.0416, observedAt: now - 30 * 3600_000 })
  return { agentId, instanceId, region, poolA, poolB }
}

export function get(path: string, headers: Record<string, string>) {
  return SELF.fetch(`http://x${path}`, { headers })
}

export function send(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  return SELF.fetch(`http://x${path}`, {
    method,
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}
