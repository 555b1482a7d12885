import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { instances } from '../../../src/db/schema'
import { newId } from '../../../src/ids'
import { ADMIN, db, get, seedClient, seedFleet, seedUser } from './seed'

interface ListedInstance {
  instanceId: string
  isActive: boolean
  status: string
  terminatedAt: number | null
  agentStatus: string
  installedAt: number
  region: string
  ondemandPrice: number
}

/** The client's fleet plus an instance the agent switched away from, ended an hour ago. */
async function fleetWithEndedInstance() {
  const client = await seedClient()
  const fleet = await seedFleet(client.id)
  const [active] = await db().select().from(instances).where(eqInstance(fleet.instanceId))
  const ended = `i-ended${crypto.randomUUID().replaceAll('-', '').slice(0, 10)}`
  const endedAt = Date.now() - 3600_000
  await db()
    .insert(instances)
    .values({
      ...active!,
      id: newId('ins'),
      instanceId: ended,
      status: 'terminated',
      createdAt: endedAt - 5 * 3600_000,
      updatedAt: endedAt,
      terminatedAt: endedAt,
    })
  return { client, fleet, active: active!, ended, endedInstalledAt: endedAt - 5 * 3600_000 }
}

const eqInstance = (id: string) => eq(instances.instanceId, id)

describe('instance lists', () => {
  it('show each instance its own status, its agent status and when it was installed (API, admin and portal)', async () => {
    const { client, fleet, active, ended, endedInstalledAt } = await fleetWithEndedInstance()
    const owner = await seedUser(client.id, 'owner')

    const listed = (await (
      await get(`/api/client/${client.id}/instances`, owner.headers)
    ).json()) as ListedInstance[]
    const byId = new Map(listed.map((i) => [i.instanceId, i]))
    expect(byId.get(fleet.instanceId)).toMatchObject({
      isActive: true,
      agentStatus: 'online',
      installedAt: active.createdAt,
      region: fleet.region,
      ondemandPrice: 0.0416,
    })
    expect(byId.get(ended)).toMatchObject({
      isActive: false,
      agentStatus: 'online',
      installedAt: endedInstalledAt,
    })

    const admin = (await (await get(`/api/admin/instances?search=${fleet.instanceId}`, ADMIN)).json()) as {
      instances: ListedInstance[]
    }
    expect(admin.instances).toHaveLength(1)
    expect(admin.instances[0]).toMatchObject({
      isActive: true,
      agentStatus: 'online',
      installedAt: active.createdAt,
    })

    for (const path of [`/c/${client.id}/instances`, `/admin/instances?search=${fleet.region}`]) {
      const html = await (await get(path, path.startsWith('/admin') ? ADMIN : owner.headers)).text()
      const row = (id: string) => html.slice(html.indexOf(`data-instance="${id}"`)).split('</tr>')[0]!
      expect(row(fleet.instanceId), path).toContain('>active<')
      expect(row(fleet.instanceId), path).toContain(`data-ts="${active.createdAt}"`)
      expect(row(ended), path).toContain('>terminated<')
      expect(row(ended), path).toContain(`data-ts="${endedInstalledAt}"`)
    }
  })

  it('show an interrupted instance as terminating until its announced end, and as terminated from then on (before the sweep writes it)', async () => {
    const { client, fleet, active } = await fleetWithEndedInstance()
    const owner = await seedUser(client.id, 'owner')
    const endsAt = Date.now() + 90_000
    const noticed = `i-noticed${crypto.randomUUID().replaceAll('-', '').slice(0, 8)}`
    const ended = `i-past${crypto.randomUUID().replaceAll('-', '').slice(0, 8)}`
    for (const [instanceId, terminatedAt] of [
      [noticed, endsAt],
      [ended, Date.now() - 60_000],
    ] as const)
      await db()
        .insert(instances)
        .values({ ...active, id: newId('ins'), instanceId, status: 'terminating', terminatedAt })

    const list = async (query = '') =>
      (await (
        await get(`/api/client/${client.id}/instances${query}`, owner.headers)
      ).json()) as ListedInstance[]
    const byId = new Map((await list()).map((i) => [i.instanceId, i]))
    expect(byId.get(noticed)).toMatchObject({ status: 'terminating', isActive: false, terminatedAt: endsAt })
    expect(byId.get(ended)).toMatchObject({ status: 'terminated', isActive: false })
    expect(byId.get(fleet.instanceId)).toMatchObject({ status: 'active', isActive: true })
    expect((await list('?status=terminating')).map((i) => i.instanceId)).toEqual([noticed])
    expect((await list('?status=terminated')).map((i) => i.instanceId)).toContain(ended)

    const html = await (await get(`/c/${client.id}/instances`, owner.headers)).text()
    const row = html.slice(html.indexOf(`data-instance="${noticed}"`)).split('</tr>')[0]!
    expect(row).toContain('>terminating<')
    expect(row).toContain(`data-ts="${endsAt}"`)
  })
})
