/**
 * A control plane for tests: wrangler dev on free ports with its own temp state dir, the migrations
 * applied and ADMIN_TOKEN set; `restart()` keeps the port and the data (control-plane restart tests).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrateLocalD1, startControlPlane, type ControlPlane } from '../../scripts/fleet/control-plane'
import { freePort } from '../../scripts/fleet/ports'

export interface TestWorker {
  readonly url: string
  readonly adminToken: string
  /** Temp dir holding `wrangler.log`; the D1 and Durable Object state are in `persistDir`. */
  readonly stateDir: string
  /** wrangler's --persist-to (read it with queryD1). */
  readonly persistDir: string
  /** Process group of the running wrangler dev (changes on restart). */
  readonly pid: number
  /** Runs the scheduled handler for a cron of wrangler.toml. */
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

/** `vars`: more Worker vars (e.g. `{ D1_METER: 'on' }` for the benchmarks' D1 write meter). */
export async function startTestWorker(vars: Record<string, string> = {}): Promise<TestWorker> {
  const stateDir = await mkdtemp(join(tmpdir(), 'spotguard-worker-'))
  const persistDir = join(stateDir, 'persist')
  const adminToken = `test-admin-${crypto.randomUUID()}`
  const port = await freePort()
  const inspectorPort = await freePort()
  await migrateLocalD1(persistDir)
  const options = { port, inspectorPort, persistDir, adminToken, logFile: join(stateDir, 'wrangler.log'), vars }
  let current: ControlPlane = await startControlPlane(options)
  const url = current.url
  return {
    url,
    adminToken,
    stateDir,
    persistDir,
    get pid() {
      return current.process.pid
    },
    scheduled: (cron) => current.scheduled(cron),
    async restart() {
      await current.stop()
      current = await startControlPlane(options)
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
