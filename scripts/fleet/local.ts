/**
 * A whole SpotGuard on this machine (what `npm start` runs): the local D1 migrated, the control plane
 * under wrangler dev, the first admin and a demo client, the simulated region and its agents, a status
 * line. Ctrl-C or SIGTERM stops every process it started; a second signal kills them at once.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { migrateLocalD1, ROOT, startControlPlane } from './control-plane'
import { defaultStateDir } from './args'
import { startFleet, type Fleet } from './fleet'
import { freePort, isPortTaken } from './ports'
import { killAllProcesses, stopAllProcesses } from './processes'
import { provisionDemo } from './provision'
import { showStatus } from './status-line'
import { TEST_IID_CERT_PEM } from '../../test/fakes/imds/identity-signing'

export interface LocalOptions {
  port: number
  agents: number
  /** Simulated seconds per real second. */
  speed: number
  /** Database, agent state, logs and demo.json live here. */
  stateDir: string
}

/** ADMIN_TOKEN from the environment, else from .dev.vars, else a new one written to .dev.vars. */
export function adminTokenFromDevVars(root = ROOT): string {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN
  const file = join(root, '.dev.vars')
  const text = existsSync(file) ? readFileSync(file, 'utf8') : ''
  const found = text.match(/^ADMIN_TOKEN\s*=\s*"?([^"\n]+)"?\s*$/m)?.[1]
  if (found && found !== 'change-me-to-a-long-random-string') return found
  const token = randomBytes(24).toString('base64url')
  const rest = text.replace(/^ADMIN_TOKEN\s*=.*\n?/m, '')
  writeFileSync(file, `${rest}${rest && !rest.endsWith('\n') ? '\n' : ''}ADMIN_TOKEN=${token}\n`, {
    mode: 0o600,
  })
  return token
}

/** How long the simulator's own stop may take at shutdown before the processes are ended anyway, ms. */
const FLEET_STOP_MS = 15_000

/** Exits once `line` is written: stdout to a pipe is asynchronous, and an exit at once may drop it. */
function exitAfter(line: string, code: number): void {
  process.stdout.write(line, () => process.exit(code))
}

/** Runs a stop of every process: 'stopped.' when it ended them all, else what it could not end. */
async function endOrSay(end: () => Promise<void>): Promise<string> {
  try {
    await end()
    return 'stopped.'
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

/** True when `work` settled within `ms` (nothing to wait for settles at once). */
async function settlesWithin(work: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  const settled = await Promise.race([(work ?? Promise.resolve()).then(() => true as const), late])
  clearTimeout(timer)
  return settled
}

export async function runLocal(options: LocalOptions): Promise<void> {
  const log = (line: string) => process.stdout.write(`${line}\n`)
  if (await isPortTaken(options.port))
    throw new Error(`port ${options.port} is taken (another npm start?); use --port`)
  mkdirSync(join(options.stateDir, 'logs'), { recursive: true })
  const persistDir = join(options.stateDir, 'persist')
  const adminToken = adminTokenFromDevVars()

  let fleet: Fleet | null = null
  let stopStatus: (() => void) | null = null
  let stoppingSince: number | null = null
  const shutdown = async (signal: string) => {
    if (stoppingSince !== null) {
      // Ctrl-C reaches every process of the group and npm relays it too: only a later signal forces.
      if (Date.now() - stoppingSince < 2_000) return
      log(`${signal} again: killing every process at once...`)
      return exitAfter(`${await endOrSay(killAllProcesses)}\n`, 1)
    }
    stoppingSince = Date.now()
    stopStatus?.()
    log(`\n${signal}: stopping the agents, the simulator and the control plane...`)
    // The simulator's own stop waits on its servers: bounded, since the processes are ended below anyway.
    const simulator = fleet?.stop().catch((error: unknown) => log(`simulator: ${String(error)}`))
    if (!(await settlesWithin(simulator, FLEET_STOP_MS)))
      log(`the simulator did not stop within ${FLEET_STOP_MS / 1000} s`)
    const stopped = await endOrSay(stopAllProcesses)
    if (stopped === 'stopped.') return exitAfter('stopped.\n', 0)
    // Something outlived its SIGKILL or held its port: kill what is left before leaving, never leave it running.
    log(stopped)
    exitAfter(`${await endOrSay(killAllProcesses)}\n`, 1)
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => void shutdown(signal))

  try {
    await startEverything()
  } catch (error) {
    // Whatever did start must not outlive this process (the status line starts last: nothing throws after it).
    await stopAllProcesses()
    throw error
  }

  async function startEverything() {
    log('migrating the local D1...')
    await migrateLocalD1(persistDir)
    log(
      `starting the control plane on http://127.0.0.1:${options.port} (wrangler dev; log: ${join(options.stateDir, 'logs', 'wrangler.log')})...`,
    )
    // Every part runs on one simulated clock: the control plane, the region and its agents.
    const origin = Date.now()
    const controlPlane = await startControlPlane({
      port: options.port,
      inspectorPort: await freePort(),
      persistDir,
      adminToken,
      logFile: join(options.stateDir, 'logs', 'wrangler.log'),
      vars: {
        // The simulated region's IMDS signs identity documents with the test key (never trusted deployed).
        IID_TRUST_CERTS: oneLine(TEST_IID_CERT_PEM),
        ...(options.speed === 1 ? {} : { SIM_CLOCK: `${origin}x${options.speed}` }),
      },
    })
    if (stoppingSince !== null) return
    const demo = await provisionDemo(controlPlane.url, adminToken, options.stateDir)
    log(`starting the simulated region and ${options.agents} agent(s) (clock ×${options.speed})...`)
    fleet = await startFleet({
      serverUrl: controlPlane.url,
      token: demo.clientToken,
      agents: options.agents,
      speed: options.speed,
      origin,
      stateDir: join(options.stateDir, 'fleet'),
      scheduled: controlPlane.scheduled,
    })
    log('')
    log(`  Dashboard:   ${controlPlane.url}/login`)
    log(`  Login:       ${demo.adminEmail} / ${demo.adminPassword}`)
    log(
      `  Demo client: ${demo.clientId} (its agents use the token in ${join(options.stateDir, 'demo.json')})`,
    )
    log(`  Operator:    Authorization: Bearer <ADMIN_TOKEN from .dev.vars>`)
    log(
      `  Interrupt:   npm run fleet -- interrupt agent-1${options.stateDir === defaultStateDir() ? '' : ` --state-dir ${options.stateDir}`}`,
    )
    log('  Stop:        Ctrl-C')
    log('')
    stopStatus = showStatus(fleet)
  }
}

/** A PEM on one line for `--var` (the Worker's parser ignores whitespace inside the base64). */
function oneLine(pem: string): string {
  return pem.trim().replace(/\s*\n\s*/g, ' ')
}
