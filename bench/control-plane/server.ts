/**
 * The benchmark's own control plane: `wrangler dev` on free ports with its own --persist-to dir, the
 * migrations applied, and `D1_METER=on` so the Worker counts D1's `meta.rows_written`
 * (src/debug/d1-meter.ts; read through GET /__debug/d1-rows-written). It runs the Worker of the
 * last commit (`git archive HEAD`) from a temp dir: wrangler dev reloads on every source change, and
 * a reload in the middle of a load run answers 503.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { migrateLocalD1, ROOT } from '../../scripts/fleet/control-plane'
import { freePort } from '../../scripts/fleet/ports'
import { startProcess } from '../../scripts/fleet/processes'

const run = promisify(execFile)

export interface BenchServer {
  url: string
  adminToken: string
  /** fetch with the admin bearer and a JSON body. */
  admin(path: string, body?: unknown): Promise<Response>
  /** D1 rows written since the last reset, in all and by statement kind and table. */
  rowsWritten(): Promise<{ total: number; byStatement: Record<string, number> }>
  resetRowsWritten(): Promise<void>
  stop(): Promise<void>
}

export async function startBenchServer(): Promise<BenchServer> {
  const dir = await mkdtemp(join(tmpdir(), 'spotguard-bench-cp-'))
  const persistDir = join(dir, 'persist')
  const app = join(dir, 'app')
  await mkdir(join(app, 'public'), { recursive: true })
  await run(
    'sh',
    [
      '-c',
      `git archive HEAD src public migrations wrangler.toml package.json tsconfig.json | tar -x -C '${app}'`,
    ],
    { cwd: ROOT },
  )
  await symlink(join(ROOT, 'node_modules'), join(app, 'node_modules'))
  // The agent bundle's build would rewrite public/ after start, and wrangler dev reloads on that.
  const config = await readFile(join(app, 'wrangler.toml'), 'utf8')
  await writeFile(join(app, 'wrangler.toml'), config.replace(/^\[build\]\ncommand = .*\n/m, ''))
  await migrateLocalD1(persistDir)
  const [port, inspectorPort] = [await freePort(), await freePort()]
  const adminToken = `bench-admin-${crypto.randomUUID()}`
  const args = [
    join(ROOT, 'scripts', 'wrangler.sh'),
    'dev',
    '--config',
    join(app, 'wrangler.toml'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    persistDir,
    '--var',
    `ADMIN_TOKEN:${adminToken}`,
    '--var',
    'D1_METER:on',
    '--show-interactive-dev-session=false',
    '--log-level',
    'warn',
  ]
  const child = startProcess('wrangler', 'bash', args, {
    cwd: app,
    logFile: join(dir, 'wrangler.log'),
    env: { ...process.env, CI: 'true', WRANGLER_LOG_PATH: join(dir, 'wrangler-logs') },
  })
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    await child.stop()
    if (!process.env.SPOTGUARD_KEEP_STATE) await rm(dir, { recursive: true, force: true })
  }
  try {
    await waitForHealth(url, () => child.hasExited())
  } catch (error) {
    await stop()
    throw error
  }
  const admin = (path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  return {
    url,
    adminToken,
    admin,
    async rowsWritten() {
      const res = await admin('/__debug/d1-rows-written')
      if (!res.ok) throw new Error(`d1 meter: HTTP ${res.status} (is D1_METER on?)`)
      const body = (await res.json()) as { rows_written: number; by_statement: Record<string, number> }
      return { total: body.rows_written, byStatement: body.by_statement }
    },
    async resetRowsWritten() {
      const res = await admin('/__debug/d1-rows-written/reset', {})
      if (!res.ok) throw new Error(`d1 meter reset: HTTP ${res.status}`)
    },
    stop,
  }
}

async function waitForHealth(url: string, hasExited: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error('wrangler dev exited before it was ready (see its log)')
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })
      await res.body?.cancel()
      if (res.ok) return
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`wrangler dev not healthy at ${url} within 60 s`)
}
