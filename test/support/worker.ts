/**
 * A control plane for tests: wrangler dev on free ports with its own temp state dir, the migrations
 * applied (a copy of a migrated template, migrated-d1.ts) and ADMIN_TOKEN set; `restart()` keeps the
 * port and the data (control-plane restart tests).
 * It runs a frozen snapshot of the Worker (worker-snapshot.ts): edits to the tree during a test do
 * not reload it (a reload answers in-flight POSTs with 503), and a restart runs the same code; and
 * without wrangler's inspector relay (dev-server.ts).
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../../scripts/fleet/control-plane'
import { freePort } from '../../scripts/fleet/ports'
import { startProcess, type ManagedProcess } from '../../scripts/fleet/processes'
import { CRON_JOBS } from '../../src/cron'
import { queryD1, sql } from './d1'
import type { DevServerOptions } from './dev-server'
import { eventually } from './eventually'
import { migratedD1 } from './migrated-d1'
import { snapshotWorker } from './worker-snapshot'
import { TEST_IID_CERT_PEM } from '../fakes/imds/identity-signing'

const DEV_SERVER = join(import.meta.dirname, 'dev-server.ts')

export interface TestWorker {
  readonly url: string
  readonly adminToken: string
  /** Temp dir holding `wrangler.log`; the D1 and Durable Object state are in `persistDir`. */
  readonly stateDir: string
  /** wrangler's --persist-to (read it with queryD1). */
  readonly persistDir: string
  /** Process group of the running wrangler dev (changes on restart). */
  readonly pid: number
  /**
   * The Worker's runtime itself, behind wrangler's proxy (changes on restart). For load: the proxy
   * turns a dropped keep-alive connection into a 503 for POSTs (see test/load/front.ts).
   */
  readonly runtimeUrl: string
  /** Runs the scheduled handler for a cron of wrangler.toml; resolves once its jobs have finished. */
  scheduled(cron: string): Promise<void>
  /** Stops wrangler dev (SIGTERM to its process group) and starts it again on the same port and state. */
  restart(): Promise<void>
  /** Stops wrangler dev and keeps the state (read it with queryD1, or `restart()`). */
  halt(): Promise<void>
  /** Stops it and deletes the state dir (unless SPOTGUARD_KEEP_STATE is set). */
  stop(): Promise<void>
  /** fetch against the Worker with the admin bearer. */
  admin(path: string, init?: RequestInit): Promise<Response>
}

interface DevOptions {
  config: string
  port: number
  persistDir: string
  runtimePortFile: string
  adminToken: string
  logFile: string
  vars: Record<string, string>
}

/** `vars`: more Worker vars (e.g. `{ D1_METER: 'on' }` for the benchmarks' D1 write meter). */
export async function startTestWorker(vars: Record<string, string> = {}): Promise<TestWorker> {
  const stateDir = await mkdtemp(join(tmpdir(), 'spotguard-worker-'))
  const persistDir = join(stateDir, 'persist')
  const adminToken = `test-admin-${crypto.randomUUID()}`
  const [config, port] = await Promise.all([
    snapshotWorker(join(stateDir, 'worker')),
    freePort(),
    migratedD1(persistDir),
  ])
  const runtimePortFile = join(stateDir, 'runtime-port')
  const options: DevOptions = {
    config,
    port,
    persistDir,
    runtimePortFile,
    adminToken,
    logFile: join(stateDir, 'wrangler.log'),
    vars,
  }
  const url = `http://127.0.0.1:${port}`
  let current = await startDev(options)
  return {
    url,
    adminToken,
    stateDir,
    persistDir,
    get pid() {
      return current.pid
    },
    get runtimeUrl() {
      return `http://127.0.0.1:${readFileSync(runtimePortFile, 'utf8').trim()}`
    },
    async scheduled(cron) {
      const jobs: readonly string[] = CRON_JOBS[cron as keyof typeof CRON_JOBS] ?? []
      const before = await cronRuns(persistDir, jobs)
      const runtime = current
      const response = await fetch(`${url}/__scheduled?cron=${encodeURIComponent(cron)}`)
      await response.body?.cancel()
      if (!response.ok) throw new Error(`scheduled ${cron}: HTTP ${response.status}`)
      // wrangler dev answers once the handler returns, before the jobs it hands to waitUntil have run
      // (unless the Worker stops meanwhile: they end with it).
      await eventually(
        async () => {
          if (runtime !== current || runtime.hasExited()) return true
          const after = await cronRuns(persistDir, jobs)
          return jobs.every((job) => {
            const run = after.get(job)
            return run && run.started_at !== before.get(job)?.started_at && run.finished_at !== null
          })
        },
        { what: `the jobs of cron ${cron} finished`, intervalMs: 20, timeoutMs: 60_000 },
      )
    },
    async restart() {
      await current.stop()
      current = await startDev(options)
    },
    halt: () => current.stop(),
    async stop() {
      await current.stop()
      if (!process.env.SPOTGUARD_KEEP_STATE) await rm(stateDir, { recursive: true, force: true })
    },
    admin: (path, init = {}) => {
      const headers = new Headers(init.headers)
      headers.set('Authorization', `Bearer ${adminToken}`)
      if (init.body && !headers.has('Content-Type')) headers.set('Content-Type', 'application/json')
      return fetch(`${url}${path}`, { ...init, headers })
    },
  }
}

/** wrangler dev of the snapshot (dev-server.ts); resolves once GET /health answers 200. */
async function startDev(options: DevOptions): Promise<ManagedProcess> {
  const server: DevServerOptions = {
    config: options.config,
    port: options.port,
    persistDir: options.persistDir,
    // The fake IMDS signs identity documents with the test key: this Worker trusts its certificate.
    vars: { ADMIN_TOKEN: options.adminToken, IID_TRUST_CERTS: TEST_IID_CERT_PEM, ...options.vars },
    runtimePortFile: options.runtimePortFile,
  }
  const child = startProcess(
    'wrangler',
    process.execPath,
    ['--import', 'tsx', DEV_SERVER, JSON.stringify(server)],
    {
      cwd: ROOT,
      logFile: options.logFile,
      env: {
        ...process.env,
        CI: 'true',
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_LOG_PATH: join(options.persistDir, 'wrangler-logs'),
      },
    },
  )
  const url = `http://127.0.0.1:${options.port}`
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if (child.hasExited()) throw new Error(`wrangler dev exited before it was ready (see ${options.logFile})`)
    if (await isHealthy(url)) return child
    await new Promise((r) => setTimeout(r, 100))
  }
  await child.stop()
  throw new Error(`wrangler dev not healthy at ${url} within 120 s (see ${options.logFile})`)
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })
    await response.body?.cancel()
    return response.ok
  } catch {
    return false // not listening yet
  }
}

interface CronRun {
  started_at: number
  finished_at: number | null
}

/** The last run of each of `jobs` (cron_runs: one row a job), by job. */
async function cronRuns(persistDir: string, jobs: readonly string[]): Promise<Map<string, CronRun>> {
  if (jobs.length === 0) return new Map()
  const rows = await queryD1<CronRun & { job: string }>(
    persistDir,
    `select job, started_at, finished_at from cron_runs where job in (${jobs.map((j) => `'${sql(j)}'`).join(', ')})`,
  )
  return new Map(rows.map((row) => [row.job, row]))
}
