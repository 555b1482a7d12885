import { describe, expect, it } from 'vitest'
import { agentRow, api, post, seedAgent, type SeededAgent } from '../session/seed'
import { ADMIN, get, seedUser, send } from './seed'

const AMI = (n: number) => `ami-0${String(n).padStart(16, '0')}`
const SNAP = (n: number) => `snap-0${String(n).padStart(16, '0')}`

async function configOf(agent: SeededAgent) {
  return (await (await api(agent, '/config')).json()) as Record<string, unknown>
}

function cleanupReport(at: number, n: number) {
  return {
    timestamp: new Date(at).toISOString(),
    snapshots: { type: 'snapshots', deleted: [SNAP(n)], failed: [], cutoff_date: new Date(at).toISOString() },
    amis: {
      type: 'amis',
      deleted_amis: [AMI(n)],
      deleted_snapshots: [SNAP(n + 1000)],
      failed: [{ id: SNAP(n + 2000), error: `InvalidSnapshot.InUse: snapshot ${n} is in use by ami-x` }],
      cutoff_date: new Date(at).toISOString(),
    },
  }
}

describe('the backup image setting', () => {
  it('defaults to 24 h on the agent’s config, and the owner changes it through the settings API', async () => {
    const agent = await seedAgent('5.0.0')
    const owner = await seedUser(agent.clientId, 'owner')
    expect(await configOf(agent)).toMatchObject({ backup_image_hours: 24 })

    const res = await send('POST', `/api/client/agents/${agent.agentId}/config`, owner.headers, {
      backupImageHours: 6,
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ settings: { backupImageHours: 6 } })
    expect(await configOf(agent)).toMatchObject({ backup_image_hours: 6 })
    const detail = await get(`/api/client/agents/${agent.agentId}`, owner.headers)
    expect(await detail.json()).toMatchObject({ backupImageHours: 6, backupImageId: null })
    const off = await send('POST', `/api/client/agents/${agent.agentId}/config`, owner.headers, {
      backupImageHours: 0,
    })
    expect(await off.json()).toMatchObject({ settings: { backupImageHours: 0 } })
    expect(await configOf(agent)).toMatchObject({ backup_image_hours: 0 })
    // An installed 4.0.0 agent gets the config it was built for.
    expect(await configOf(await seedAgent('4.0.0'))).not.toHaveProperty('backup_image_hours')
  })

  it('answers 400 naming the field for a bad period, and changes nothing', async () => {
    const agent = await seedAgent('5.0.0')
    for (const bad of [-1, 1.5, 721, '12', null, true]) {
      const res = await send('POST', `/api/client/agents/${agent.agentId}/config`, ADMIN, {
        backupImageHours: bad,
      })
      expect(res.status).toBe(400)
      expect(JSON.stringify(await res.json())).toContain('backupImageHours')
    }
    expect((await agentRow(agent.agentId))?.backupImageHours).toBe(24)
  })

  it('is another client’s to change: 404 across tenants, 403 for a viewer', async () => {
    const agent = await seedAgent('5.0.0')
    const other = await seedAgent('5.0.0')
    const stranger = await seedUser(other.clientId, 'owner')
    const viewer = await seedUser(agent.clientId, 'viewer')
    const path = `/api/client/agents/${agent.agentId}/config`
    expect((await send('POST', path, stranger.headers, { backupImageHours: 1 })).status).toBe(404)
    expect((await send('POST', path, viewer.headers, { backupImageHours: 1 })).status).toBe(403)
    expect((await agentRow(agent.agentId))?.backupImageHours).toBe(24)
  })
})

describe('the backup image report', () => {
  it('keeps the newest backup the agent reported, whatever order the reports land in', async () => {
    const agent = await seedAgent('5.0.0')
    const made = Date.parse('2026-03-02T04:00:00Z')
    const newer = await post(agent, '/backup-image', {
      image_id: AMI(2),
      created_at: new Date(made).toISOString(),
    })
    expect(newer.status).toBe(200)
    const late = await post(agent, '/backup-image', {
      image_id: AMI(1),
      created_at: new Date(made - 86_400_000).toISOString(),
    })
    expect(late.status).toBe(200)
    expect(await agentRow(agent.agentId)).toMatchObject({ backupImageId: AMI(2), backupImageAt: made })
    const detail = await get(`/api/client/agents/${agent.agentId}`, ADMIN)
    expect(await detail.json()).toMatchObject({ backupImageId: AMI(2), backupImageAt: made })
  })

  it('answers 400 for an id that is no AMI or a time that is none, and stores nothing', async () => {
    const agent = await seedAgent('5.0.0')
    for (const body of [
      { image_id: 'snap-0123456789abcdef0', created_at: '2026-03-02T04:00:00Z' },
      { image_id: AMI(3), created_at: 'yesterday' },
      { image_id: AMI(3) },
    ]) {
      const res = await post(agent, '/backup-image', body)
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ code: expect.any(String) })
    }
    expect(await agentRow(agent.agentId)).toMatchObject({ backupImageId: null, backupImageAt: null })
  })
})

describe('the agent page’s upkeep', () => {
  it('shows the cleanup reports (deleted, failed and why) and the backup image, to the owner and the admin only', async () => {
    const agent = await seedAgent('5.0.0')
    const owner = await seedUser(agent.clientId, 'owner')
    const stranger = await seedUser((await seedAgent('5.0.0')).clientId, 'owner')
    const at = Date.parse('2026-03-02T05:00:00Z')
    expect((await post(agent, '/cleanup-report', cleanupReport(at, 7))).status).toBe(201)
    await post(agent, '/backup-image', { image_id: AMI(42), created_at: new Date(at).toISOString() })
    const page = `/c/${agent.clientId}/agents/${agent.agentId}`

    for (const headers of [owner.headers, ADMIN]) {
      const res = await get(page, headers)
      expect(res.status).toBe(200)
      const html = await res.text()
      const reports = html.slice(html.indexOf('id="cleanup-reports"'))
      expect(reports).toContain(AMI(7))
      expect(reports).toContain(SNAP(7))
      expect(reports).toContain(SNAP(1007))
      expect(reports).toContain(`${SNAP(2007)}</code>: InvalidSnapshot.InUse: snapshot 7 is in use by ami-x`)
      expect(reports).toContain(`data-ts="${at}"`)
      const backup = html.slice(html.indexOf('id="backup-image"'), html.indexOf('id="cleanup-reports"'))
      expect(backup).toContain('every <strong>24 h</strong>')
      expect(backup).toContain(AMI(42))
      expect(backup).toContain(`data-ts="${at}"`)
    }
    expect((await get(page, stranger.headers)).status).toBe(404)
    const api = await get(`/api/client/agents/${agent.agentId}/cleanup-reports`, owner.headers)
    expect(api.headers.get('X-Total-Count')).toBe('1')
    expect(await api.json()).toEqual([
      expect.objectContaining({
        reportedAt: at,
        amisDeleted: 1,
        snapshotsDeleted: 2,
        failures: 1,
        deletedAmis: [AMI(7)],
        deletedSnapshots: [SNAP(7), SNAP(1007)],
        failed: [{ id: SNAP(2007), error: 'InvalidSnapshot.InUse: snapshot 7 is in use by ami-x' }],
      }),
    ])
    expect((await get(`/api/client/agents/${agent.agentId}/cleanup-reports`, stranger.headers)).status).toBe(
      404,
    )

    await send('POST', `/api/client/agents/${agent.agentId}/config`, owner.headers, { backupImageHours: 0 })
    const off = await (await get(page, owner.headers)).text()
    expect(off.slice(off.indexOf('id="backup-image"'), off.indexOf('id="cleanup-reports"'))).toContain(
      '<strong>off</strong>',
    )
  })

  it('pages the reports newest first, ten a page', async () => {
    const agent = await seedAgent('5.0.0')
    const start = Date.parse('2026-03-01T00:00:00Z')
    for (let n = 1; n <= 12; n++) await post(agent, '/cleanup-report', cleanupReport(start + n * 3600_000, n))
    const page = async (p: string) => {
      const html = await (await get(`/c/${agent.clientId}/agents/${agent.agentId}${p}`, ADMIN)).text()
      return html.slice(html.indexOf('id="cleanup-reports"'))
    }
    const first = await page('')
    expect(first).toContain('12 total · page 1 of 2')
    expect(first.indexOf(AMI(12))).toBeLessThan(first.indexOf(AMI(3)))
    expect(first).not.toContain(AMI(2))
    const second = await page('?page=2')
    expect(second).toContain(AMI(2))
    expect(second).toContain(AMI(1))
    expect(second).not.toContain(AMI(3))
    expect((await get(`/c/${agent.clientId}/agents/${agent.agentId}?page=0`, ADMIN)).status).toBe(400)
  })
})
