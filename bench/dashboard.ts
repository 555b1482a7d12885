/**
 * `npm run bench:dashboard`: starts its own wrangler dev on free ports with a fresh local D1, seeds
 * 1,000 agents and 30 days of prices straight into it, then times the overview, the agents list and
 * an instance page (200 sequential requests each after a warm-up) and writes bench/results/dashboard.json.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { migrateLocalD1, ROOT, startControlPlane } from '../scripts/fleet/control-plane'
import { freePort } from '../scripts/fleet/ports'
import { seedSql } from './dashboard/seed'

const run = promisify(execFile)
const SAMPLES = 200
const WARMUP = 20

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

async function time(url: string, token: string): Promise<{ p50: number; p95: number; max: number }> {
  const samples: number[] = []
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const started = performance.now()
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } })
    await res.arrayBuffer()
    if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`)
    if (i >= WARMUP) samples.push(performance.now() - started)
  }
  samples.sort((a, b) => a - b)
  const r = (x: number) => Math.round(x * 10) / 10
  return { p50: r(percentile(samples, 50)), p95: r(percentile(samples, 95)), max: r(samples.at(-1)!) }
}

const dir = await mkdtemp(join(tmpdir(), 'spotguard-bench-dashboard-'))
const persistDir = join(dir, 'persist')
const adminToken = `bench-${crypto.randomUUID()}`
try {
  await migrateLocalD1(persistDir)
  const seeded = seedSql(Date.now())
  const file = join(dir, 'seed.sql')
  await writeFile(file, seeded.statements.join('\n'))
  console.log(`seeding ${seeded.statements.length} statements…`)
  await run(
    'bash',
    [
      join(ROOT, 'scripts', 'wrangler.sh'),
      'd1',
      'execute',
      'DB',
      '--local',
      '--persist-to',
      persistDir,
      '--file',
      file,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, CI: 'true' },
      maxBuffer: 64 * 1024 * 1024,
    },
  )
  const cp = await startControlPlane({
    port: await freePort(),
    inspectorPort: await freePort(),
    persistDir,
    adminToken,
    logFile: join(dir, 'wrangler.log'),
  })
  try {
    const overview = await time(`${cp.url}/admin`, adminToken)
    const agentsList = await time(`${cp.url}/admin/agents`, adminToken)
    const instancePage = await time(
      `${cp.url}/c/${seeded.clientId}/instances/${seeded.instanceId}`,
      adminToken,
    )
    const result = {
      measured_at: new Date().toISOString(),
      seeded: { agents: 1000, clients: 20, price_days: 30 },
      samples: SAMPLES,
      note: 'wall time of sequential requests from Node to wrangler dev on 127.0.0.1 (server time plus loopback)',
      overview_p50_ms: overview.p50,
      overview_p95_ms: overview.p95,
      agents_list_p50_ms: agentsList.p50,
      agents_list_p95_ms: agentsList.p95,
      instance_page_p50_ms: instancePage.p50,
      instance_page_p95_ms: instancePage.p95,
      target_p95_ms: 150,
    }
    await writeFile(join(ROOT, 'bench', 'results', 'dashboard.json'), JSON.stringify(result, null, 2) + '\n')
    console.table({ overview, agents_list: agentsList, instance_page: instancePage })
  } finally {
    await cp.stop()
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
