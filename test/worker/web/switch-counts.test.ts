import { describe, expect, it } from 'vitest'
import { switches } from '../../../src/db/schema'
import { newId } from '../../../src/ids'
import { ADMIN, db, get, seedClient, seedFleet } from './seed'

describe('switch counts', () => {
  it('count interruption switches beside manual and engine ones, in the API, the overview, history and CSV', async () => {
    const client = await seedClient()
    const fleet = await seedFleet(client.id)
    const now = Date.now()
    const row = (trigger: string, at: number) => ({
      id: newId('swi'),
      clientId: client.id,
      agentId: fleet.agentId,
      trigger,
      oldInstanceId: `i-old-${trigger}`,
      newInstanceId: `i-new-${trigger}`,
      receivedAt: at,
    })
    await db()
      .insert(switches)
      .values([row('manual', now - 3000), row('engine', now - 2000), row('interruption', now - 1000)])

    const overview = (await (await get(`/api/client/${client.id}/overview`, ADMIN)).json()) as Record<
      string,
      number
    >
    expect(overview).toMatchObject({
      totalSwitches: 3,
      manualSwitches: 1,
      modelSwitches: 1,
      interruptionSwitches: 1,
    })
    const page = await (await get(`/c/${client.id}`, ADMIN)).text()
    expect(page).toContain('1 manual · 1 engine · 1 interruption')
    const history = (await (await get(`/api/client/${client.id}/switch-history`, ADMIN)).json()) as {
      trigger: string
    }[]
    expect(history.map((s) => s.trigger)).toEqual(['interruption', 'engine', 'manual'])
    const csv = await (await get(`/api/client/${client.id}/export/switches.csv`, ADMIN)).text()
    expect(csv).toContain('i-old-interruption,i-new-interruption')
  })
})
