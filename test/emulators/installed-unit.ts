/**
 * The installed 4.0.0 agent as the simulator boots it. `installedAgentFiles` is what its setup script
 * left on a customer's golden image: `/etc/spot-optimizer/agent.env` with the setup's own names
 * (`CENTRAL_SERVER_URL`, `CLIENT_TOKEN`, the `LOGICAL_AGENT_ID` it asked for, `AWS_REGION`), the Python
 * program and `spot-optimizer-agent.service`, enabled. `installedAgentLauncher` is that unit for the
 * simulator's init system (scripts/fleet/agents.ts): on every running instance whose disk has it
 * enabled (the workload's first instance, and whatever 4.0.0 launches from that launch AMI: replicas,
 * switch targets) it runs the emulation of installed-agent.ts with THAT disk's env file, as systemd
 * would run the program; SIGTERM and SIGKILL behave as they would for the Python process.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { DiskFiles } from '../fakes'
import { WANTS_DIR, type AgentHandle, type AgentLauncher, type Boot } from '../../scripts/fleet/launcher'
import { parseEnvFile, parseUnit } from '../../scripts/fleet/unit-launcher'
import {
  INSTALLED_CADENCE,
  startInstalledAgent,
  type InstalledAgent,
  type InstalledCadence,
} from './installed-agent'

export const INSTALLED_UNIT = 'spot-optimizer-agent.service'
const PROGRAM = '/opt/spot-optimizer-agent/spot_optimizer_agent.py'

/** The unit as the 4.0.0 setup script writes it. */
const UNIT_FILE = `[Unit]
Description=Spot Optimizer Agent
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
EnvironmentFile=/etc/spot-optimizer/agent.env
ExecStart=/usr/bin/python3 ${PROGRAM}
Restart=always
RestartSec=10

[Install]
WantedBy=multi-user.target
`

const ENV_FILE = '/etc/spot-optimizer/agent.env'

/**
 * The files the 4.0.0 setup script leaves on a workload's image, its unit enabled, in place of the 5.x
 * install `spotguard` (FleetOptions.install): the same control plane, token and intervals, under the
 * setup's names, and the logical id it asked for.
 */
export function installedAgentFiles(
  spotguard: DiskFiles,
  logicalAgentId: string,
  region = 'us-east-1',
): DiskFiles {
  const file = spotguard[ENV_FILE]
  const text = typeof file === 'object' && 'content' in file ? file.content : file
  const {
    SPOT_OPTIMIZER_SERVER_URL: serverUrl,
    SPOT_OPTIMIZER_CLIENT_TOKEN: token,
    ...intervals
  } = parseEnvFile(String(text ?? ''))
  if (!serverUrl || !token) throw new Error(`the 5.x install has no server URL or token in ${ENV_FILE}`)
  const env = {
    CENTRAL_SERVER_URL: serverUrl,
    CLIENT_TOKEN: token,
    LOGICAL_AGENT_ID: logicalAgentId,
    AWS_REGION: region,
    ...intervals,
  }
  return {
    [ENV_FILE]: {
      content: Object.entries(env)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
      mode: 0o600,
    },
    [`/etc/systemd/system/${INSTALLED_UNIT}`]: UNIT_FILE,
    [`/${WANTS_DIR}/${INSTALLED_UNIT}`]: { symlink: `/etc/systemd/system/${INSTALLED_UNIT}` },
    // The emulation stands in for it; the unit fails to start without it, as systemd's would.
    [PROGRAM]: '# spot-optimizer-agent 4.0.0 (emulated by test/emulators/installed-agent.ts)\n',
  }
}

/** The env names of the installed agent's intervals (agent-api.md), by loop of the emulation. */
const INTERVALS: Partial<Record<keyof InstalledCadence, string>> = {
  heartbeat: 'HEARTBEAT_INTERVAL',
  pendingCommands: 'PENDING_COMMANDS_CHECK_INTERVAL',
  config: 'CONFIG_REFRESH_INTERVAL',
  pricing: 'PRICING_REPORT_INTERVAL',
  interruptionCheck: 'TERMINATION_CHECK_INTERVAL',
  rebalanceCheck: 'REBALANCE_CHECK_INTERVAL',
}

/**
 * Simulated seconds a SIGTERM'd agent may take to finish what it does (the host powers off within its
 * shutting-down time, 60 s on AWS-like durations), and at most this many real ms (a stopping fleet).
 */
const STOP_GRACE_S = 30
const STOP_GRACE_REAL_MS = 5_000

export function installedAgentLauncher(): AgentLauncher {
  return {
    unit: INSTALLED_UNIT,
    logName: 'spot-optimizer-agent.log',
    start: (boot) => startUnit(boot),
  }
}

function startUnit(boot: Boot): AgentHandle {
  const onDisk = (path: string) => join(boot.disk, path)
  const service = parseUnit(readFileSync(onDisk(`etc/systemd/system/${INSTALLED_UNIT}`), 'utf8'))
  const program = service.execStart.find((arg) => arg.startsWith('/') && !arg.endsWith('python3'))
  if (!program || !existsSync(onDisk(program)))
    throw new Error(`${INSTALLED_UNIT} on ${boot.instanceId}: ${program ?? 'its program'} is missing`)
  const env: Record<string, string> = {}
  for (const file of service.environmentFiles) {
    if (existsSync(onDisk(file.path)))
      Object.assign(env, parseEnvFile(readFileSync(onDisk(file.path), 'utf8')))
    else if (!file.optional)
      throw new Error(`${INSTALLED_UNIT} on ${boot.instanceId}: ${file.path} is missing`)
  }
  Object.assign(env, service.environment)
  const serverUrl = env.SPOT_OPTIMIZER_SERVER_URL ?? env.CENTRAL_SERVER_URL
  const token = env.SPOT_OPTIMIZER_CLIENT_TOKEN ?? env.CLIENT_TOKEN
  if (!serverUrl || !token) throw new Error(`${INSTALLED_UNIT} on ${boot.instanceId}: no server URL or token`)

  const [origin, speed] = boot.simClock ? boot.simClock.split('x').map(Number) : [0, 1]
  const now = boot.simClock ? () => origin! + (Date.now() - origin!) * speed! : Date.now
  const cadence: Partial<InstalledCadence> = {}
  for (const [loop, name] of Object.entries(INTERVALS) as [keyof InstalledCadence, string][]) {
    const seconds = Number(env[name])
    if (env[name] && seconds > 0) cadence[loop] = seconds
  }
  const log = (line: string) => appendFileSync(boot.logFile, `${new Date(now()).toISOString()} ${line}\n`)

  let agent: InstalledAgent | null = null
  let exitCode: number | null | undefined
  let finish!: (code: number | null) => void
  const exited = new Promise<number | null>((resolve) => (finish = resolve))
  const exit = (code: number | null) => {
    if (exitCode !== undefined) return
    exitCode = code
    log(`exited (${code === null ? 'killed' : `code ${code}`})`)
    finish(code)
  }
  let killed = false
  const starting = startInstalledAgent({
    serverUrl,
    token,
    imdsUrl: boot.imdsUrl,
    ec2Url: boot.ec2Url,
    pricingUrl: boot.pricingUrl,
    logicalAgentId: env.LOGICAL_AGENT_ID || undefined,
    speed: speed!,
    now,
    cadence: { ...INSTALLED_CADENCE, ...cadence },
    // Its host's life is the init system's to end (SIGTERM at shutdown), as for a real process.
    alive: () => true,
    recorder: {
      record: (route, ms, status) => log(`${route} ${status || 'no answer'} ${Math.round(ms)} ms`),
    },
  }).then(
    (started) => {
      agent = started
      log(`started on ${boot.instanceId} as ${started.legacy.logicalAgentId}`)
      if (killed) void started.stop('killed')
      // Exits on its own once it switched away (its host terminated): 0, as the Python process would.
      void started.ended.then(() => exit(killed ? null : 0))
      return started
    },
    (error: unknown) => {
      log(`failed at start: ${error instanceof Error ? error.message : String(error)}`)
      exit(1)
      return null
    },
  )
  return {
    pid: null,
    exited,
    hasExited: () => exitCode !== undefined,
    async stop() {
      const running = await starting
      if (!running) return
      const grace = Math.min((STOP_GRACE_S * 1000) / speed!, STOP_GRACE_REAL_MS)
      await Promise.race([running.shutdown(), new Promise((r) => setTimeout(r, grace))])
      await running.stop('killed after its stop grace')
      await exited
    },
    async kill() {
      killed = true
      await agent?.stop('killed')
      if (!agent) await starting
      await exited
    },
    restart: service.restart,
  }
}
