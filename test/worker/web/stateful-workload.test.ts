/**
 * The stateful mode's settings (client API, audit, the agent's config, pushed to a connected agent) and
 * its inventory (POST volumes and snapshots from the agent; the client's read APIs and the agent page),
 * each scoped to the agent's own client.
 */
import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { auditLog, rollingSnapshots, workloadInterfaces, workloadVolumes } from '../../../src/db/schema'
import { agentRow, api, connect, post, seedAgent, type SeededAgent } from '../session/seed'
import { ADMIN, db, get, seedUser, send } from './seed'

const VOL = (n: number) => `vol-0${String(n).padStart(16, '0')}`
const SNAP = (n: number) => `snap-0${String(n).padStart(16, '0')}`
const ENI = 'eni-0123456789abcdef0'

async function configOf(agent: SeededAgent) {
  return (await (await api(agent, '/config')).json()) as Record<string, unknown>
}

const settings = (agent: SeededAgent, headers: Record<string, string>, body: unknown) =>
  send('POST', `/api/client/agents/${agent.agentId}/config`, headers, body)

function volumes(
  n: number,
  iface: unknown = { eni_id: ENI, private_ip: '10.0.1.15', subnet_id: 'subnet-0123456789abcdef0' },
) {
  return {
    volumes: Array.from({ length: n }, (_, i) => ({
      volume_id: VOL(i + 1),
      device: `/dev/xvd${String.fromCharCode(102 + i)}`,
      size_gib: 100 + i,
      az: 'us-east-1a',
      delete_on_termination: i % 2 === 1,
    })),
    interface: iface,
  }
}

function snapshots(n: number, newest: number) {
  return {
    snapshots: Array.from({ length: n }, (_, i) => ({
      snapshot_id: SNAP(i + 1),
      volume_id: VOL(1),
      device: '/dev/xvdf',
      started_at: new Date(newest - (n - 1 - i) * 15 * 60_000).toISOString(),
      state: i === n - 1 ? 'pending' : 'completed',
      ...(i === n - 1
        ? {}
        : { completed_at: new Date(newest - (n - 1 - i) * 15 * 60_000 + 60_000).toISOString() }),
    })),
  }
}

describe('the stateful mode setting', () => {
  it('is off by default; the owner turns it on with its RPO, unit, hook timeout and draining, and the agent gets them at once', async () => {
    const agent = await seedAgent('5.0.0')
    const owner = await seedUser(agent.clientId, 'owner')
    expect(await configOf(agent)).toMatchObject({
      stateful: false,
      rpo_minutes: 15,
      drain_unit: null,
      hook_timeout_seconds: 30,
      drain_target_groups: true,
    })
    const socket = await connect(agent)
    expect((await socket.next()).type).toBe('hello')

    const change = {
      stateful: true,
      rpoMinutes: 5,
      drainUnit: 'postgresql.service',
      hookTimeoutSeconds: 60,
      drainTargetGroups: false,
    }
    const res = await settings(agent, owner.headers, change)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ settings: change })
    expect(await socket.next()).toEqual({ type: 'config_changed' })
    expect(await configOf(agent)).toMatchObject({
      stateful: true,
      rpo_minutes: 5,
      drain_unit: 'postgresql.service',
      hook_timeout_seconds: 60,
      drain_target_groups: false,
    })
    const [entry] = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, agent.agentId), eq(auditLog.action, 'agent.config')))
    expect(entry).toMatchObject({
      before: {
        stateful: false,
        rpoMinutes: 15,
        drainUnit: null,
        hookTimeoutSeconds: 30,
        drainTargetGroups: true,
      },
      after: change,
    })
    // The settings form shows what is stored.
    const html = await (await get(`/c/${agent.clientId}/agents/${agent.agentId}`, owner.headers)).text()
    const form = html.slice(html.indexOf('id="stateful-settings"'))
    expect(form).toMatch(/name="stateful" checked/)
    expect(form).toContain('value="postgresql.service"')
    expect(form).toContain('name="rpoMinutes" min="5" max="1440" value="5"')

    expect((await settings(agent, owner.headers, { drainUnit: null })).status).toBe(200)
    expect(await configOf(agent)).toMatchObject({ drain_unit: null })
    socket.close()
    // An installed 4.0.0 agent gets the config it was built for.
    expect(await configOf(await seedAgent('4.0.0'))).not.toHaveProperty('stateful')
  })

  it('answers 400 naming the field for a bad value, and changes nothing', async () => {
    const agent = await seedAgent('5.0.0')
    const bad: [string, unknown][] = [
      ['stateful', 'yes'],
      ['rpoMinutes', 4],
      ['rpoMinutes', 1441],
      ['rpoMinutes', 7.5],
      ['drainUnit', 'pg; rm -rf /'],
      ['drainUnit', ''],
      ['hookTimeoutSeconds', 0],
      ['hookTimeoutSeconds', 91],
      ['drainTargetGroups', null],
    ]
    for (const [field, value] of bad) {
      const res = await settings(agent, ADMIN, { [field]: value })
      expect([field, res.status]).toEqual([field, 400])
      expect(JSON.stringify(await res.json())).toContain(field)
    }
    expect(await agentRow(agent.agentId)).toMatchObject({
      stateful: false,
      rpoMinutes: 15,
      drainUnit: null,
      hookTimeoutSeconds: 30,
      drainTargetGroups: true,
    })
  })

  it('is another client’s to change: 404 across tenants, 403 for a viewer', async () => {
    const agent = await seedAgent('5.0.0')
    const stranger = await seedUser((await seedAgent('5.0.0')).clientId, 'owner')
    const viewer = await seedUser(agent.clientId, 'viewer')
    expect((await settings(agent, stranger.headers, { stateful: true })).status).toBe(404)
    expect((await settings(agent, viewer.headers, { stateful: true })).status).toBe(403)
    expect((await agentRow(agent.agentId))?.stateful).toBe(false)
  })
})

describe('the stateful workload inventory', () => {
  it('stores the volumes and interface the agent reports, each report in place of the last, and shows them', async () => {
    const agent = await seedAgent('5.0.0')
    const owner = await seedUser(agent.clientId, 'owner')
    // 32 volumes: more rows than one statement may bind (8 values a row, 100 a statement).
    const many = await post(agent, '/volumes', volumes(32))
    expect(many.status).toBe(200)
    expect(
      await db().select().from(workloadVolumes).where(eq(workloadVolumes.agentId, agent.agentId)),
    ).toHaveLength(32)

    expect((await post(agent, '/volumes', volumes(2))).status).toBe(200)
    const read = await get(`/api/client/agents/${agent.agentId}/volumes`, owner.headers)
    expect(read.status).toBe(200)
    expect(await read.json()).toMatchObject({
      stateful: false,
      rpoMinutes: 15,
      volumes: [
        { volumeId: VOL(1), device: '/dev/xvdf', sizeGib: 100, az: 'us-east-1a', deleteOnTermination: false },
        { volumeId: VOL(2), device: '/dev/xvdg', sizeGib: 101, az: 'us-east-1a', deleteOnTermination: true },
      ],
      interface: { eniId: ENI, privateIp: '10.0.1.15', subnetId: 'subnet-0123456789abcdef0' },
      newestSnapshot: null,
      ageSeconds: null,
      withinRpo: false,
    })
    const html = await (await get(`/c/${agent.clientId}/agents/${agent.agentId}`, owner.headers)).text()
    const panel = html.slice(html.indexOf('id="stateful-workload"'))
    expect(panel).toContain('<code id="workload-address">10.0.1.15</code>')
    expect(panel).toContain(VOL(2))
    expect(panel).not.toContain(VOL(3))

    // The interface gone (null): none is shown any more.
    expect((await post(agent, '/volumes', volumes(1, null))).status).toBe(200)
    expect(
      await db().select().from(workloadInterfaces).where(eq(workloadInterfaces.agentId, agent.agentId)),
    ).toEqual([])
  })

  it('pages the rolling snapshots newest first, and warns on the agent page when the newest completed one is older than the RPO', async () => {
    const agent = await seedAgent('5.0.0')
    const owner = await seedUser(agent.clientId, 'owner')
    await settings(agent, owner.headers, { stateful: true, rpoMinutes: 30 })
    const page = `/c/${agent.clientId}/agents/${agent.agentId}`
    const none = await (await get(page, owner.headers)).text()
    expect(none.slice(none.indexOf('id="snapshot-age"'))).toContain('No completed rolling snapshot yet')

    // 150 snapshots, 15 min apart; the newest pending, the newest completed taken 20 min ago.
    const newest = Date.now() - 5 * 60_000
    expect((await post(agent, '/snapshots', snapshots(150, newest))).status).toBe(200)
    const first = await get(`/api/client/agents/${agent.agentId}/snapshots?limit=10`, owner.headers)
    expect(first.headers.get('X-Total-Count')).toBe('150')
    const items = (await first.json()) as { snapshotId: string; state: string; startedAt: number }[]
    expect(items.map((s) => s.snapshotId)).toEqual(Array.from({ length: 10 }, (_, i) => SNAP(150 - i)))
    expect(items[0]).toMatchObject({ state: 'pending', startedAt: newest })
    const third = (await (
      await get(`/api/client/agents/${agent.agentId}/snapshots?limit=10&page=3`, owner.headers)
    ).json()) as { snapshotId: string }[]
    expect(third[0]?.snapshotId).toBe(SNAP(130))

    const fresh = await (await get(`/api/client/agents/${agent.agentId}/volumes`, owner.headers)).json()
    expect(fresh).toMatchObject({ newestSnapshot: { snapshotId: SNAP(149) }, withinRpo: true })
    const ok = await (await get(page, owner.headers)).text()
    expect(ok.slice(ok.indexOf('id="snapshot-age"'))).toMatch(
      /^id="snapshot-age">newest snapshot <code>snap-0[0-9]+149<\/code>/,
    )
    expect(ok.slice(ok.indexOf('id="snapshot-age"'))).toContain('within the RPO')

    // An RPO of 5 minutes: the same snapshot is now too old.
    await settings(agent, owner.headers, { rpoMinutes: 5 })
    const late = await (await get(page, owner.headers)).text()
    const warning = late.slice(late.indexOf('id="snapshot-age"'))
    expect(late).toContain('class="note warn" id="snapshot-age"')
    expect(warning).toContain('older than the RPO of 5 min')
    expect(
      await (await get(`/api/client/agents/${agent.agentId}/volumes`, owner.headers)).json(),
    ).toMatchObject({
      withinRpo: false,
    })
    // A later report with fewer snapshots replaces the list.
    expect((await post(agent, '/snapshots', snapshots(3, newest))).status).toBe(200)
    expect(
      await db().select().from(rollingSnapshots).where(eq(rollingSnapshots.agentId, agent.agentId)),
    ).toHaveLength(3)
  })

  it("is the agent's own: another client's token cannot write it, another client's people cannot read it", async () => {
    const agent = await seedAgent('5.0.0')
    const intruder = await seedAgent('5.0.0')
    const stranger = await seedUser(intruder.clientId, 'owner')
    await post(agent, '/volumes', volumes(1))
    await post(agent, '/snapshots', snapshots(2, Date.now()))
    const as = (path: string, body: unknown) =>
      send('POST', `/api/agents/${agent.agentId}${path}`, intruder.headers, body)
    expect((await as('/volumes', volumes(3))).status).toBe(404)
    expect((await as('/snapshots', snapshots(5, Date.now()))).status).toBe(404)
    expect(
      await db().select().from(workloadVolumes).where(eq(workloadVolumes.agentId, agent.agentId)),
    ).toHaveLength(1)
    expect(
      await db().select().from(rollingSnapshots).where(eq(rollingSnapshots.agentId, agent.agentId)),
    ).toHaveLength(2)
    for (const path of ['volumes', 'snapshots'])
      expect((await get(`/api/client/agents/${agent.agentId}/${path}`, stranger.headers)).status).toBe(404)
    expect((await get(`/api/client/agents/${agent.agentId}/volumes`, ADMIN)).status).toBe(200)
  })

  it('answers 400 for a bad inventory, and keeps the last one', async () => {
    const agent = await seedAgent('5.0.0')
    await post(agent, '/volumes', volumes(1))
    await post(agent, '/snapshots', snapshots(2, Date.now()))
    const good = volumes(2)
    const bad: [string, string, unknown][] = [
      ['/volumes', 'volume_id', { ...good, volumes: [{ ...good.volumes[0], volume_id: 'disk-1' }] }],
      ['/volumes', 'volume listed twice', { ...good, volumes: [good.volumes[0], good.volumes[0]] }],
      ['/volumes', 'size_gib', { ...good, volumes: [{ ...good.volumes[0], size_gib: 0 }] }],
      ['/volumes', 'interface', { volumes: good.volumes }],
      [
        '/volumes',
        'private_ip',
        { ...good, interface: { eni_id: ENI, private_ip: 'ten', subnet_id: 'subnet-0123456789abcdef0' } },
      ],
      ['/volumes', 'volumes', { ...volumes(33) }],
      ['/snapshots', 'state', { snapshots: [{ ...snapshots(1, Date.now()).snapshots[0], state: 'done' }] }],
      [
        '/snapshots',
        'started_at',
        { snapshots: [{ ...snapshots(1, Date.now()).snapshots[0], started_at: 'now' }] },
      ],
      [
        '/snapshots',
        'snapshot listed twice',
        { snapshots: [...snapshots(1, 0).snapshots, ...snapshots(1, 0).snapshots] },
      ],
    ]
    for (const [path, field, body] of bad) {
      const res = await post(agent, path, body)
      expect([field, res.status]).toEqual([field, 400])
      expect(JSON.stringify(await res.json())).toContain(field)
    }
    expect(
      await db().select().from(workloadVolumes).where(eq(workloadVolumes.agentId, agent.agentId)),
    ).toHaveLength(1)
    expect(
      await db().select().from(rollingSnapshots).where(eq(rollingSnapshots.agentId, agent.agentId)),
    ).toHaveLength(2)
  })
})
