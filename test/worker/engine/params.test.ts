import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { parseEventsFile, parsePriceFile, traceFromPrices } from '../../../src/engine/backtest/files'
import { CRON_ENGINE } from '../../../src/cron'
import { runScheduled } from '../../../src/scheduled'
import { ADMIN, call } from '../agent-api/helpers'
import { agentOn, decisionsOf, freshType, reportPrices, setAgent, switchCommands } from './market'

// Parameter versions are global: this file's tests run in order on one database.
describe('engine parameter versions', () => {
  it('needs an admin', async () => {
    expect((await call('GET', '/api/admin/engine/versions')).status).toBe(401)
  })

  it('validates, creates, activates and rolls back; GET config follows the active version', async () => {
    const bad = await call(
      'POST',
      '/api/admin/engine/versions',
      { params: { risk_threshold: 7, surprise: 1 } },
      ADMIN,
    )
    expect(bad.status).toBe(400)
    expect(bad.json.fields.map((f: { field: string }) => f.field)).toEqual(
      expect.arrayContaining(['params.risk_threshold']),
    )

    const v1 = await call(
      'POST',
      '/api/admin/engine/versions',
      { params: { min_savings_percent: 20 }, note: 'stricter', activate: true },
      ADMIN,
    )
    expect(v1).toMatchObject({ status: 201, json: { version: 1, status: 'active' } })
    const type = freshType()
    const a = await agentOn(type, 'ondemand')
    await setAgent(a.agentId, { maxSwitchesPerDay: 5 })
    const config = await call('GET', `/api/agents/${a.agentId}/config`, undefined, a.client.auth)
    expect(config.json).toMatchObject({
      min_savings_percent: 20,
      max_switches_per_day: 5,
      risk_threshold: 0.5,
    })

    const v2 = await call(
      'POST',
      '/api/admin/engine/versions',
      { params: { min_savings_percent: 25 } },
      ADMIN,
    )
    expect(v2.json).toMatchObject({ version: 2, status: 'draft' })
    expect((await call('POST', '/api/admin/engine/versions/2/activate', {}, ADMIN)).status).toBe(200)
    expect(
      (await call('GET', `/api/agents/${a.agentId}/config`, undefined, a.client.auth)).json
        .min_savings_percent,
    ).toBe(25)

    const back = await call('POST', '/api/admin/engine/rollback', {}, ADMIN)
    expect(back.json).toMatchObject({ active_version: 1, rolled_back_from: 2 })
    expect(
      (await call('GET', `/api/agents/${a.agentId}/config`, undefined, a.client.auth)).json
        .min_savings_percent,
    ).toBe(20)
    expect((await call('POST', '/api/admin/engine/rollback', {}, ADMIN)).status).toBe(409)
    expect((await call('POST', '/api/admin/engine/versions/99/activate', {}, ADMIN)).status).toBe(404)

    const list = await call('GET', '/api/admin/engine/versions', undefined, ADMIN)
    expect(list.json).toMatchObject({ active_version: 1, shadow_version: null })
    expect(list.json.versions.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual(
      [
        [2, 'retired'],
        [1, 'active'],
      ],
    )
  })

  it('exports stored prices and signals in the backtest formats', async () => {
    const type = freshType()
    const a = await agentOn(type, 'spot')
    await reportPrices(a, type, { a: 0.012, b: 0.013, c: 0.014 }, 'spot')
    await call(
      'POST',
      `/api/agents/${a.agentId}/termination-imminent`,
      { instance_id: a.instanceId },
      a.client.auth,
    )
    const q = `instance_type=${type}&region=us-east-1&days=1`
    expect((await call('GET', `/api/admin/engine/history/prices.txt?${q}`)).status).toBe(401)
    const prices = await call('GET', `/api/admin/engine/history/prices.txt?${q}`, undefined, ADMIN)
    const rows = parsePriceFile(prices.text)
    expect(rows.map((r) => [r.az, r.price])).toEqual([
      ['us-east-1a', 0.012],
      ['us-east-1b', 0.013],
      ['us-east-1c', 0.014],
    ])
    const signals = parseEventsFile(
      (await call('GET', `/api/admin/engine/history/events.tsv?${q}`, undefined, ADMIN)).text,
    )
    expect(signals.map((e) => [e.kind, e.az])).toEqual([['interruption', 'us-east-1a']])
    expect(traceFromPrices(rows, 0.0416, signals).pools).toHaveLength(3)
  })

  it('runs a candidate in shadow: its decisions are stored apart and never become commands', async () => {
    const v3 = await call(
      'POST',
      '/api/admin/engine/versions',
      { params: { min_savings_percent: 0, min_pool_duration_hours: 0 } },
      ADMIN,
    )
    expect(
      (await call('POST', `/api/admin/engine/versions/${v3.json.version}/shadow`, {}, ADMIN)).status,
    ).toBe(200)
    const type = freshType()
    const a = await agentOn(type, 'ondemand')
    await reportPrices(a, type, { a: 0.02, b: 0.0125, c: 0.013 })
    await runScheduled(CRON_ENGINE, env, Date.now())
    const rows = await decisionsOf(a.agentId)
    const shadow = rows.filter((d) => d.shadow)
    expect(shadow.map((d) => [d.paramsVersion, d.decision])).toContainEqual([v3.json.version, 'to_spot'])
    expect(rows.filter((d) => !d.shadow).every((d) => d.decision === 'stay' && d.paramsVersion === 1)).toBe(
      true,
    )
    expect(await switchCommands(a.agentId)).toHaveLength(0)
    expect((await call('DELETE', '/api/admin/engine/shadow', undefined, ADMIN)).json).toMatchObject({
      shadow_version: null,
    })
  })
})
