/**
 * A stateful agent's switch report: its `stateful` object (timed steps, downtime, data loss bound,
 * address change, volume moves) is stored with the switch and shown in the history and on the switch's
 * page; a bad shape is a 400 that stores nothing.
 */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { events, switches } from '../../../src/db/schema'
import { db, post, seedAgent, type SeededAgent } from '../session/seed'
import { ADMIN, get, seedUser } from '../web/seed'

const ec2Id = () => `i-${crypto.randomUUID().replaceAll('-', '').slice(0, 17)}`
const T0 = Date.parse('2026-03-02T10:00:00.000Z')
const at = (s: number) => new Date(T0 + s * 1000).toISOString()

function report(agent: SeededAgent, newInstanceId: string, stateful?: unknown) {
  const side = (instanceId: string) => ({
    instance_id: instanceId,
    instance_type: 't3.medium',
    region: 'us-east-1',
    az: 'us-east-1a',
    mode: 'spot',
    pool_id: 't3.medium.us-east-1a',
  })
  return {
    trigger: 'manual',
    old_instance: side(agent.instanceId),
    new_instance: side(newInstanceId),
    timing: { switch_initiated_at: at(0), new_instance_ready_at: at(90) },
    ...(stateful === undefined ? {} : { stateful }),
  }
}

const STATEFUL = {
  steps: [
    { name: 'deregister_targets', started_at: at(60), ms: 4200, ok: true },
    { name: 'pre_switch_hook', started_at: at(65), ms: 800, ok: true, detail: 'flushed the write-ahead log' },
    { name: 'stop_unit', started_at: at(66), ms: 1500, ok: true, detail: 'postgresql.service stopped' },
    { name: 'detach_volumes', started_at: at(68), ms: 6000, ok: true },
    { name: 'attach_volumes', started_at: at(74), ms: 5000, ok: true },
    { name: 'move_interface', started_at: at(79), ms: 3000, ok: true },
    { name: 'register_targets', started_at: at(82), ms: 2000, ok: false, detail: 'TargetGroupNotFound' },
    { name: 'post_switch_hook', started_at: at(84), ms: 700, ok: true },
  ],
  downtime_ms: 24_700,
  data_loss_bound_seconds: 200,
  address: {
    eni_id: 'eni-0123456789abcdef0',
    old_private_ip: '10.0.1.15',
    new_private_ip: '10.0.2.27',
    changed: true,
  },
  volumes: [
    {
      device: '/dev/xvdf',
      old_volume_id: 'vol-0aaaaaaaaaaaaaaa1',
      new_volume_id: 'vol-0bbbbbbbbbbbbbbb2',
      how: 'from_snapshot',
    },
  ],
}

const switchOf = async (id: string) => (await db().select().from(switches).where(eq(switches.id, id)))[0]

describe('a stateful switch report', () => {
  it('stores the steps, downtime, data loss bound and address change, and the switch page shows them', async () => {
    const agent = await seedAgent('5.0.0')
    const owner = await seedUser(agent.clientId, 'owner')
    const res = await post(agent, '/switch-report', report(agent, ec2Id(), STATEFUL))
    expect(res.status).toBe(201)
    const { switch_id } = (await res.json()) as { switch_id: string }
    expect(await switchOf(switch_id)).toMatchObject({
      downtimeMs: 24_700,
      dataLossBoundSeconds: 200,
      interfaceId: 'eni-0123456789abcdef0',
      oldPrivateIp: '10.0.1.15',
      newPrivateIp: '10.0.2.27',
      addressChanged: true,
      statefulDetail: {
        downtimeMs: 24_700,
        steps: expect.arrayContaining([
          {
            name: 'stop_unit',
            startedAt: T0 + 66_000,
            ms: 1500,
            ok: true,
            detail: 'postgresql.service stopped',
          },
          { name: 'deregister_targets', startedAt: T0 + 60_000, ms: 4200, ok: true, detail: null },
        ]),
        volumes: [
          {
            device: '/dev/xvdf',
            oldVolumeId: 'vol-0aaaaaaaaaaaaaaa1',
            newVolumeId: 'vol-0bbbbbbbbbbbbbbb2',
            how: 'from_snapshot',
          },
        ],
      },
    })

    for (const headers of [owner.headers, ADMIN]) {
      const page = await get(`/c/${agent.clientId}/switches/${switch_id}`, headers)
      expect(page.status).toBe(200)
      const html = await page.text()
      const steps = html.slice(html.indexOf('id="switch-steps"'))
      // Every step, in the agent's order, with its start and duration; the failed one says why.
      const order = STATEFUL.steps.map((s) => steps.indexOf(`data-step="${s.name}"`))
      expect(order.every((i) => i >= 0)).toBe(true)
      expect([...order].sort((a, b) => a - b)).toEqual(order)
      expect(steps).toContain(`data-ts="${T0 + 60_000}"`)
      expect(steps).toContain('4.2 s')
      expect(steps).toContain('TargetGroupNotFound')
      expect(html).toContain('flushed the write-ahead log')
      expect(html.slice(html.indexOf('id="switch-downtime"'))).toMatch(/^id="switch-downtime">24\.7 s</)
      expect(html.slice(html.indexOf('id="data-loss"'))).toContain('up to 4 min of writes lost')
      const address = html.slice(html.indexOf('id="address-change"'))
      expect(address).toContain('<code>10.0.1.15</code> → <code>10.0.2.27</code>')
      expect(address).toContain('address changed')
      expect(html.slice(html.indexOf('id="switch-volumes"'))).toContain('vol-0bbbbbbbbbbbbbbb2')
    }

    // The history links to it and says what the data and address did.
    const history = await (await get(`/c/${agent.clientId}/switches`, owner.headers)).text()
    expect(history).toContain(`href="/c/${agent.clientId}/switches/${switch_id}"`)
    expect(history).toContain('stateful: up to 4 min of writes lost, address changed')
    const api = await get(`/api/client/${agent.clientId}/switch-history`, owner.headers)
    expect(await api.json()).toEqual([
      expect.objectContaining({
        id: switch_id,
        stateful: true,
        dataLossBoundSeconds: 200,
        addressChanged: true,
      }),
    ])

    // Another client's people find no such switch.
    const stranger = await seedUser((await seedAgent('5.0.0')).clientId, 'owner')
    const theirs = await get(`/c/${agent.clientId}/switches/${switch_id}`, stranger.headers)
    expect(theirs.status).toBe(404)
  })

  it('says "no loss" for a drained switch that kept its address, and nothing stateful for a stateless one', async () => {
    const agent = await seedAgent('5.0.0')
    const drained = {
      ...STATEFUL,
      data_loss_bound_seconds: 0,
      address: { ...STATEFUL.address, new_private_ip: '10.0.1.15', changed: false },
    }
    const kept = (await (await post(agent, '/switch-report', report(agent, ec2Id(), drained))).json()) as {
      switch_id: string
    }
    const html = await (await get(`/c/${agent.clientId}/switches/${kept.switch_id}`, ADMIN)).text()
    expect(html.slice(html.indexOf('id="data-loss"'))).toContain('<strong>no loss</strong>')
    expect(html.slice(html.indexOf('id="address-change"'))).toContain('address kept')

    const other = await seedAgent('5.0.0')
    const plain = (await (await post(other, '/switch-report', report(other, ec2Id()))).json()) as {
      switch_id: string
    }
    const row = await switchOf(plain.switch_id)
    expect(row).toMatchObject({ statefulDetail: null, dataLossBoundSeconds: null, addressChanged: null })
    // Without a measured downtime, it is derived from the times as before (ready, no move: 0).
    expect(row?.downtimeMs).toBe(0)
    const page = await (await get(`/c/${other.clientId}/switches/${plain.switch_id}`, ADMIN)).text()
    expect(page).not.toContain('id="switch-steps"')
    expect(page).toContain('A stateless switch')
  })

  it('learns the stateful record from a repeated report when the first one lacked it, once', async () => {
    const agent = await seedAgent('5.0.0')
    const fresh = ec2Id()
    const first = (await (await post(agent, '/switch-report', report(agent, fresh))).json()) as {
      switch_id: string
    }
    const again = await post(agent, '/switch-report', report(agent, fresh, STATEFUL))
    expect(again.status).toBe(200)
    expect(await switchOf(first.switch_id)).toMatchObject({ downtimeMs: 24_700, dataLossBoundSeconds: 200 })
    const other = { ...STATEFUL, data_loss_bound_seconds: 5, downtime_ms: 1 }
    expect((await post(agent, '/switch-report', report(agent, fresh, other))).status).toBe(200)
    expect(await switchOf(first.switch_id)).toMatchObject({ downtimeMs: 24_700, dataLossBoundSeconds: 200 })
  })

  it('answers 400 naming the field for a bad stateful object, and stores no switch', async () => {
    const agent = await seedAgent('5.0.0')
    const bad: [string, unknown][] = [
      ['steps', { ...STATEFUL, steps: [{ ...STATEFUL.steps[0], name: 'reboot' }] }],
      ['started_at', { ...STATEFUL, steps: [{ ...STATEFUL.steps[0], started_at: 'yesterday' }] }],
      ['ms', { ...STATEFUL, steps: [{ ...STATEFUL.steps[0], ms: -1 }] }],
      ['data_loss_bound_seconds', { ...STATEFUL, data_loss_bound_seconds: '200' }],
      ['data_loss_bound_seconds', { ...STATEFUL, data_loss_bound_seconds: undefined }],
      ['eni_id', { ...STATEFUL, address: { ...STATEFUL.address, eni_id: 'eth0' } }],
      ['new_private_ip', { ...STATEFUL, address: { ...STATEFUL.address, new_private_ip: '10.0.2' } }],
      ['how', { ...STATEFUL, volumes: [{ ...STATEFUL.volumes[0], how: 'copied' }] }],
      ['stateful', 'yes'],
    ]
    for (const [field, stateful] of bad) {
      const res = await post(agent, '/switch-report', report(agent, ec2Id(), stateful))
      expect([field, res.status]).toEqual([field, 400])
      expect(JSON.stringify(await res.json())).toContain(field)
    }
    expect(await db().select().from(switches).where(eq(switches.agentId, agent.agentId))).toEqual([])
  })
})

describe('a notice a stateful agent drained for', () => {
  it('keeps the drain steps in the interruption event, and refuses a bad step', async () => {
    const agent = await seedAgent('5.0.0')
    const notice = {
      instance_id: agent.instanceId,
      termination_time: at(120),
      detected_at: at(0),
      drain_steps: STATEFUL.steps.slice(0, 3),
    }
    const bad = await post(agent, '/termination-imminent', {
      ...notice,
      drain_steps: [{ ...STATEFUL.steps[0], ok: 'yes' }],
    })
    expect(bad.status).toBe(400)
    expect(await db().select().from(events).where(eq(events.agentId, agent.agentId))).toEqual([])

    // No replica: the agent launches its own replacement (409), the notice is kept with its drain.
    expect((await post(agent, '/termination-imminent', notice)).status).toBe(409)
    const [event] = await db().select().from(events).where(eq(events.agentId, agent.agentId))
    expect(event).toMatchObject({
      kind: 'termination_notice',
      detail: {
        drainSteps: [
          { name: 'deregister_targets', startedAt: T0 + 60_000, ms: 4200, ok: true, detail: null },
          {
            name: 'pre_switch_hook',
            startedAt: T0 + 65_000,
            ms: 800,
            ok: true,
            detail: 'flushed the write-ahead log',
          },
          {
            name: 'stop_unit',
            startedAt: T0 + 66_000,
            ms: 1500,
            ok: true,
            detail: 'postgresql.service stopped',
          },
        ],
      },
    })
  })
})
