/**
 * End to end (the bundle as a real process, the fakes, the control plane under wrangler dev): an
 * interruption notice while the control plane is down ends with the agent's own emergency launch,
 * the Elastic IP follows the replacement, and that launch reaches the control plane as ONE switch
 * (with its traffic switch time) once it answers again, from the running agent or from one restarted
 * after a kill. Also: the bundle never loads undici (no fetch anywhere).
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../support/eventually'
import { startTestWorker, type TestWorker } from '../support/worker'
import { imdsFor } from '../fakes'
import { buildBundle, NODE_FLAGS, REPO, startAgentProcess } from './support/process'
import { startScenario, type Scenario } from './support/scenario'

const QUEUED = 'emergency replacement launched; its switch report is queued for the control plane'
const MOVED = 'emergency replacement: Elastic IP moved'
const PROBE = join(REPO, 'test', 'agent', 'support', 'module-probe.cjs')

let worker: TestWorker
let scenario: Scenario | null = null

beforeAll(async () => {
  await buildBundle()
  worker = await startTestWorker()
}, 180_000)
afterEach(async () => {
  await scenario?.close()
  scenario = null
}, 60_000)
afterAll(() => worker?.stop(), 60_000)

const q = (s: string) => `'${s.replaceAll("'", "''")}'`
const outbox = (s: Scenario) =>
  (
    JSON.parse(readFileSync(join(s.sim.stateDir, 'state.json'), 'utf8')) as {
      outbox: Array<{ key: string; body: { timing: { traffic_switched_at: string | null } } }>
    }
  ).outbox

/** The control plane stops; a notice arrives; the agent launches on its own and queues the report. */
async function emergencyWhileDown(s: Scenario): Promise<{ newInstanceId: string; endsAt: number }> {
  await worker.halt()
  const endsAt = Date.now() + 120_000
  s.sim.imds.interrupt({ action: 'terminate', time: endsAt })
  const queued = await s.agent.waitFor((l) => l.msg === QUEUED, 'the emergency launch', 90_000)
  const instanceId = String(queued.instance_id)
  // Persisted in the state directory before anything could deliver it.
  expect(outbox(s).map((o) => o.key)).toContain(String(queued.report))
  // Traffic follows the workload: the replacement takes the Elastic IP once it runs.
  const moved = await s.agent.waitFor((l) => l.msg === MOVED, 'the Elastic IP move', 30_000)
  expect(moved.to).toBe(instanceId)
  expect(s.sim.ec2.state.addresses.get(s.sim.workload.allocationId)?.instanceId).toBe(instanceId)
  // The queued report is rewritten with the move's time just after that log line.
  await eventually(
    () =>
      outbox(s).some((o) => o.key === String(queued.report) && o.body.timing.traffic_switched_at !== null),
    {
      what: 'the queued report carrying the traffic switch',
    },
  )
  return { newInstanceId: instanceId, endsAt }
}

/** What the control plane recorded: one switch to the replacement, which is now the agent's instance. */
async function expectRecorded(
  s: Scenario,
  { newInstanceId, endsAt }: { newInstanceId: string; endsAt: number },
  oldHostGone = false,
) {
  const oldInstanceId = s.sim.workload.instanceId
  // The report goes out after the agent says it is queued: wait for it to land.
  const switches = await eventually(
    async () => {
      const rows = await s.sql<{
        trigger: string
        old_instance_id: string
        new_instance_id: string
        new_pool_id: string
        new_mode: string
        traffic_switched_at: number | null
      }>(
        `select trigger, old_instance_id, new_instance_id, new_pool_id, new_mode, traffic_switched_at from switches where agent_id = ${q(s.agentId)}`,
      )
      return rows.length > 0 ? rows : undefined
    },
    { what: 'the switch recorded' },
  )
  expect(switches).toEqual([
    {
      trigger: 'interruption',
      old_instance_id: oldInstanceId,
      new_instance_id: newInstanceId,
      new_pool_id: 't3.medium.us-east-1b',
      new_mode: 'spot',
      traffic_switched_at: expect.any(Number),
    },
  ])
  const [agent] = await s.sql<{ instance_id: string }>(
    `select instance_id from agents where id = ${q(s.agentId)}`,
  )
  expect(agent!.instance_id).toBe(newInstanceId)
  const instances = await s.sql<{ instance_id: string; status: string; terminated_at: number | null }>(
    `select instance_id, status, terminated_at from instances where agent_id = ${q(s.agentId)} order by instance_id = ${q(newInstanceId)}`,
  )
  // The interrupted instance ends at the notice's time: terminating until then (EC2 still runs it; read
  // before, the row must say so), then terminated (the 5-minute cron writes it). The replacement runs.
  const [old, replacement] = instances
  expect(old).toMatchObject({
    instance_id: oldInstanceId,
    status: Date.now() < endsAt ? 'terminating' : expect.stringMatching(/^terminat(ing|ed)$/),
  })
  expect(Math.abs(old!.terminated_at! - endsAt)).toBeLessThan(1_000)
  expect(replacement).toEqual({ instance_id: newInstanceId, status: 'active', terminated_at: null })
  const segments = await eventually(
    () =>
      s
        .sql<{ role: string }>(
          `select role from usage_segments where agent_id = ${q(s.agentId)} and instance_id = ${q(newInstanceId)} and ended_at is null`,
        )
        .then((r) => r.length > 0 && r),
    { what: "the replacement's open usage segment" },
  )
  expect(segments.map((r) => r.role)).toEqual(['primary'])
  // One replacement in EC2, whatever happened to the agent.
  expect(s.sim.ec2.count('RunInstances')).toBe(1)
  if (!oldHostGone) expect(outbox(s)).toEqual([])
}

describe('emergency launch while the control plane is down', () => {
  it('reports the launch as one switch when the control plane is back; the bundle never loads undici', async () => {
    const probe = join(tmpdir(), `spotguard-modules-${process.pid}-${Date.now()}.json`)
    scenario = await startScenario(worker, {
      env: { SPOTGUARD_MODULE_PROBE: probe },
      nodeFlags: [...NODE_FLAGS, '--require', PROBE],
    })
    const s = scenario
    // Every kind of request has been made before the outage: IMDS, EC2, Price List, the control plane and its socket.
    await eventually(() => s.sim.pricing.count() > 0 && s.sim.ec2.count('DescribeSpotPriceHistory') > 0, {
      what: 'a pricing report',
    })
    await s.agent.waitFor((l) => l.msg === 'push socket open', 'the push socket')
    const launched = await emergencyWhileDown(s)
    await worker.restart()
    // Retired (the workload moved): it delivers the report, then stops for good.
    expect(await s.agent.exited).toBe(0)
    await expectRecorded(s, launched)
    const modules = JSON.parse(readFileSync(probe, 'utf8')) as string[]
    expect(modules).toContain('NativeModule http')
    expect(modules.filter((m) => /undici|fetch/i.test(m))).toEqual([])
  }, 240_000)

  it('a restarted agent delivers the report it queued before a kill, and launches nothing more', async () => {
    scenario = await startScenario(worker)
    const s = scenario
    const launched = await emergencyWhileDown(s)
    await s.agent.stop('SIGKILL')
    await worker.restart()
    const again = await s.restart()
    await again.waitFor(
      (l) => l.msg === 'this instance no longer runs the workload; not registering',
      'the retired start',
    )
    expect(await again.exited).toBe(0)
    await expectRecorded(s, launched)
  }, 240_000)

  it("the replacement's own agent delivers the report when the old host ended with it queued", async () => {
    scenario = await startScenario(worker)
    const s = scenario
    const launched = await emergencyWhileDown(s)
    // EC2 ends the old host at the notice's time: its agent, state directory and outbox with it.
    await s.agent.stop('SIGKILL')
    s.sim.ec2.terminate(s.sim.workload.instanceId)
    const imds = await imdsFor(s.sim.ec2, launched.newInstanceId, { pricing: s.sim.pricing })
    const stateDir = await mkdtemp(join(tmpdir(), 'spotguard-agent-state-'))
    try {
      await worker.restart()
      // The replacement boots with the workload's env file and its own (empty) state.
      s.agent = startAgentProcess(
        s.sim.agentEnv(worker.url, s.client.token, {
          AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
          SPOTGUARD_STATE_DIR: stateDir,
        }),
      )
      const queued = await s.agent.waitFor(
        (l) => l.msg === 'this instance is an emergency replacement: its switch report is queued',
        "the replacement's report",
      )
      expect(queued).toMatchObject({ replaced: s.sim.workload.instanceId })
      await expectRecorded(s, launched, true)
    } finally {
      await s.agent.stop('SIGKILL')
      await imds.close()
      await rm(stateDir, { recursive: true, force: true })
    }
  }, 240_000)
})
