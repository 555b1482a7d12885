/**
 * The control plane as a local process: the D1 migrations applied to a persist dir, then
 * `wrangler dev --test-scheduled` on a loopback port, with ADMIN_TOKEN passed as a var.
 */
import { execFile } from 'node:child_process'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { startProcess, type ManagedProcess } from './processes'

const run = promisify(execFile)

/** The repository root (scripts/fleet/ is two levels down). */
export const ROOT = resolve(import.meta.dirname, '..', '..')
const WRANGLER = join(ROOT, 'scripts', 'wrangler.sh')

export interface ControlPlaneOptions {
  port: number
  inspectorPort: number
  /** wrangler's --persist-to: the local D1 and Durable Object storage live here. */
  persistDir: string
  adminToken: string
  /** Appended with wrangler's output. */
  logFile: string
  /** How long to wait for GET /health (ms). */
  readyTimeoutMs?: number
  /** More Worker vars (`--var NAME:value`), e.g. D1_METER for benchmarks. */
  vars?: Record<string, string>
}

export interface ControlPlane {
  readonly url: string
  readonly process: ManagedProcess
  /** Runs the Worker's scheduled handler for one cron expression (cron does not fire under wrangler dev). */
  scheduled(cron: string): Promise<void>
  stop(): Promise<void>
}

/** Applies every migration under migrations/ to the local D1 in `persistDir`. */
export async function migrateLocalD1(persistDir: string): Promise<void> {
  await run('bash', [WRANGLER, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistDir], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true' },
  })
}

/** Starts wrangler dev and resolves once /health answers 200. */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const args = [
    WRANGLER,
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--inspector-port',
    String(options.inspectorPort),
    '--persist-to',
    options.persistDir,
    '--var',
    `ADMIN_TOKEN:${options.adminToken}`,
    ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
    '--test-scheduled',
    '--show-interactive-dev-session=false',
    '--log-level',
    'info',
  ]
  const child = startProcess('wrangler', 'bash', args, {
    cwd: ROOT,
    logFile: options.logFile,
    ports: [options.port, options.inspectorPort],
    env: { ...process.env, CI: 'true', WRANGLER_LOG_PATH: join(options.persistDir, 'wrangler-logs') },
  })
  const url = `http://127.0.0.1:${options.port}`
  try {
    await waitForHealth(url, child, options.readyTimeoutMs ?? 120_000)
  } catch (error) {
    await child.stop()
    throw error
  }
  return {
    url,
    process: child,
    async scheduled(cron) {
      const response = await fetch(`${url}/__scheduled?cron=${encodeURIComponent(cron)}`)
      await response.body?.cancel()
      if (!response.ok) throw new Error(`scheduled ${cron}: HTTP ${response.status}`)
    },
    stop: () => child.stop(),
  }
}

async function waitForHealth(url: string, child: ManagedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.hasExited()) throw new Error(`wrangler dev exited before it was ready (see its log)`)
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) })
      await response.body?.cancel()
      if (response.ok) return
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`wrangler dev not healthy at ${url} within ${timeoutMs} ms`)
}
