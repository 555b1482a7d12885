/**
 * The agent's upkeep through a real fleet, on one simulated clock SPEED times real time: the periodic
 * backup image (the agent's NoReboot AMI tagged SpotGuardBackup=periodic, recorded by the control plane,
 * the one an emergency launch without a replica starts from, the newest one kept by cleanup), and an
 * instance profile without ec2:GetSpotPlacementScores (the agent keeps working, the engine weighs
 * history alone, the agent page says scores are unavailable). Each follows the flow to what EC2 holds
 * and what the user sees.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queryD1, sql } from '../support/d1'
import { eventually } from '../support/eventually'
import { startE2eWorld, type E2eWorld } from '../support/fleet-harness'
import { registered } from '../support/fleet-waits'
import { expectInterruptionEnd } from '../support/interruption-end'

const SPEED = 120
const HOUR = 3_600_000
const DAY = 24 * HOUR
/** Real ms a simulated span of `ms` takes. */
const real = (ms: number) => ms / SPEED
/** The agents' AMI cleanup: every 5 simulated minutes, AMIs older than 7.2 minutes (the newest kept). */
const CLEANUP_EVERY_S = 300
const AMI_MAX_AGE_DAYS = 0.005
/** The interruption's notice, simulated seconds. */
const NOTICE_S = 240

let world: E2eWorld

beforeAll(async () => {
  world = await startE2eWorld({
    agents: 1,
    instanceType: 'm5.large',
    speed: SPEED,
    agentEnv: {
      CLEANUP_INTERVAL: String(CLEANUP_EVERY_S),
      CLEANUP_AMIS_OLDER_THAN_DAYS: String(AMI_MAX_AGE_DAYS),
    },
  })
  // The instance profile lacks ec2:GetSpotPlacementScores from the start (before any agent boots).
  world.fleet.region.ec2.deny('GetSpotPlacementScores')
})

afterAll(async () => {
  await world?.stop()
})

/** A file of the workload on an instance's disk (`/srv/app/orders.txt`). */
const ORDERS = join('srv', 'app', 'orders.txt')
function diskOf(instanceId: string): string {
  return world.fleet.region.hosts().find((h) => h.instanceId === instanceId)!.disk!
}
function writeOrders(instanceId: string, text: string) {
  const file = join(diskOf(instanceId), ORDERS)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, text)
}

/** The workload's periodic backup AMIs EC2 holds, oldest first. */
function backups(logicalAgentId: string) {
  return [...world.fleet.region.ec2.state.images.values()]
    .filter((i) => i.tags.SpotGuardBackup === 'periodic' && i.tags.LogicalAgentId === logicalAgentId)
    .sort((a, b) => a.createdAt - b.createdAt)
}

interface CleanupReportItem {
  reportedAt: number | null
  deletedAmis: string[]
}

describe('an instance profile without ec2:GetSpotPlacementScores', () => {
  it('leaves the agent working and the engine on history alone, and the agent page says so', async () => {
    const { api, client, fleet, worker } = world
    const agent = await registered(world, 'agent-1')
    const [status] = await eventually(
      async () => {
        const rows = await queryD1<{ status: string; detail: string | null; updated_at: number }>(
          worker.persistDir,
          `select status, detail, updated_at from placement_score_status where agent_id = '${sql(agent.id)}'`,
        )
        return rows.length > 0 ? rows : undefined
      },
      { what: 'the denial reported', timeoutMs: 60_000 },
    )
    expect(status).toMatchObject({ status: 'denied' })
    expect(fleet.region.ec2.requests.filter((r) => r.action === 'GetSpotPlacementScores')).toEqual([
      expect.objectContaining({ code: 'UnauthorizedOperation' }),
    ])
    // It keeps reporting prices after the denial (a steady price's quote is stamped every 15 minutes).
    await eventually(
      async () =>
        (
          await queryD1(
            worker.persistDir,
            `select 1 from price_quotes where client_id = '${sql(client.id)}' and reported_at > ${status!.updated_at + 15 * 60_000}`,
          )
        ).length > 0,
      { what: 'a price report after the denial', timeoutMs: real(HOUR) + 30_000, intervalMs: 1_000 },
    )
    expect((await api.agent(client.id, 'agent-1'))?.status).toBe('online')
    // No scores stored; the engine decides without a capacity component.
    expect(
      await queryD1(
        worker.persistDir,
        `select 1 from placement_scores where client_id = '${sql(client.id)}'`,
      ),
    ).toEqual([])
    await worker.scheduled('*/5 * * * *')
    const [decision] = await queryD1<{ inputs: string; reasons: string }>(
      worker.persistDir,
      `select inputs, reasons from decisions where agent_id = '${sql(agent.id)}' and shadow = 0 order by last_seen_at desc limit 1`,
    )
    const seen = JSON.parse(decision!.inputs) as { pools: Array<Record<string, unknown>> }
    expect(seen.pools.length).toBeGreaterThan(1)
    expect(seen.pools.filter((p) => 'placement_score' in p)).toEqual([])
    expect(decision!.reasons).not.toContain('placement score')
    const page = await (await worker.admin(`/c/${client.id}/agents/${agent.id}`)).text()
    const note = page.slice(
      page.indexOf('id="placement-scores"'),
      page.indexOf('</div>', page.indexOf('id="placement-scores"')),
    )
    expect(note).toContain('lacks ec2:GetSpotPlacementScores')
    expect(note).toContain('interruption history alone')
    // Asked once: a denied request waits a day before the next.
    expect(fleet.region.ec2.requests.filter((r) => r.action === 'GetSpotPlacementScores')).toHaveLength(1)
  })
})

describe('the periodic backup image', () => {
  it(
    'is made without reboot, recorded, kept as the newest by cleanup, and an emergency launch starts from it with its files',
    { timeout: 420_000 },
    async () => {
      const { api, client, fleet, worker } = world
      const agent = await registered(world, 'agent-1')
      const primary = agent.instanceId!
      const allocationId = [...fleet.region.ec2.state.addresses.values()].find(
        (a) => a.instanceId === primary,
      )!.allocationId
      // The default period is a day; the owner sets an hour in the settings. Auto-switch is off: the
      // workload stays where its backups are made (a switch's AMI, newer, would supersede them: cleanup
      // and an emergency launch rightly take the newest AMI of the workload, whichever made it).
      const detail = await api.call<{ backupImageHours: number }>('GET', `/api/client/agents/${agent.id}`)
      expect(detail.body.backupImageHours).toBe(24)
      await api.configure(agent.id, { backupImageHours: 1, autoSwitchEnabled: false })
      writeOrders(primary, 'orders up to the first backup')

      const first = await eventually(() => backups('agent-1').find((i) => i.state === 'available'), {
        what: 'the first backup image',
        timeoutMs: real(HOUR) + 60_000,
        intervalMs: 500,
      })
      writeOrders(primary, 'orders up to the second backup')
      expect(first).toMatchObject({
        sourceInstanceId: primary,
        noReboot: true,
        tags: { ManagedBy: 'SpotOptimizer' },
      })
      const second = await eventually(
        () => backups('agent-1').find((i) => i.state === 'available' && i.createdAt > first.createdAt),
        { what: 'the second backup image', timeoutMs: real(HOUR) + 60_000, intervalMs: 500 },
      )
      writeOrders(primary, 'orders after the last backup')
      // A period after the first (the agent's request and EC2's stamp differ by a round trip).
      expect(second.createdAt - first.createdAt).toBeGreaterThanOrEqual(HOUR - 60_000)
      expect(second.createdAt - first.createdAt).toBeLessThan(HOUR + 10 * 60_000)
      // The control plane recorded it; the agent page shows it.
      await eventually(
        async () =>
          (await api.call<{ backupImageId: string | null }>('GET', `/api/client/agents/${agent.id}`)).body
            .backupImageId === second.imageId,
        { what: 'the second backup recorded' },
      )

      // Cleanup: the first, past the age limit, deleted (EC2 and the report say so); the newest kept
      // though past the limit too.
      const cutoffPassed = second.createdAt + AMI_MAX_AGE_DAYS * DAY
      const reports = await eventually(
        async () => {
          const answer = await api.call<CleanupReportItem[]>(
            'GET',
            `/api/client/agents/${agent.id}/cleanup-reports?limit=100`,
          )
          const after = answer.body.some((r) => (r.reportedAt ?? 0) > cutoffPassed + 60_000)
          return after && answer.body.some((r) => r.deletedAmis.includes(first.imageId))
            ? answer.body
            : undefined
        },
        { what: 'a cleanup past the newest backup’s age limit', timeoutMs: 60_000, intervalMs: 1_000 },
      )
      // Cleanup deleted the first, past the age limit; it kept the second, the newest, past it too.
      const deleted = reports.flatMap((r) => r.deletedAmis)
      expect(deleted).toContain(first.imageId)
      expect(deleted).not.toContain(second.imageId)
      expect(fleet.region.ec2.state.images.has(first.imageId)).toBe(false)
      expect(fleet.region.ec2.state.images.get(second.imageId)?.state).toBe('available')
      expect(backups('agent-1').at(-1)?.imageId).toBe(second.imageId)
      expect(fleet.region.ec2.instance(primary)?.state).toBe('running')
      const page = await (await worker.admin(`/c/${client.id}/agents/${agent.id}`)).text()
      const panel = page.slice(page.indexOf('id="backup-image"'), page.indexOf('id="cleanup-reports"'))
      expect(panel).toContain('every <strong>1 h</strong>')
      expect(panel).toContain(second.imageId)
      expect(page.slice(page.indexOf('id="cleanup-reports"'))).toContain(first.imageId)

      // An interruption without a replica: the emergency launch starts from the newest backup, with the
      // files it holds, not those written since.
      writeOrders(primary, 'orders just before the interruption')
      // A notice twice AWS's 2 minutes: the same 2 real seconds the agent had for its launch at 60×.
      fleet.region.interrupt(primary, NOTICE_S)
      const { newInstanceId } = await expectInterruptionEnd(world, {
        logicalAgentId: 'agent-1',
        agentId: agent.id,
        oldInstanceId: primary,
        allocationId,
        addressFollows: true,
        viaReplica: true,
      })
      const launched = fleet.region.ec2.instance(newInstanceId)!
      expect(launched.imageId).toBe(second.imageId)
      expect(readFileSync(join(diskOf(newInstanceId), ORDERS), 'utf8')).toBe('orders up to the second backup')
      // EC2 holds the image the instance runs from.
      expect(fleet.region.ec2.state.images.get(second.imageId)?.state).toBe('available')
    },
  )
})
