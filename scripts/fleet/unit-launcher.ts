/**
 * Runs a systemd unit installed on an instance's disk the way systemd would, for a unit whose ExecStart
 * runs node: its `EnvironmentFile` and `Environment` lines (read from the disk, nothing added but what
 * stands in for AWS: the instance's IMDS, EC2 and Price List endpoints, the simulated clock), its
 * `StateDirectory`, its ExecStart with node's flags, and its `Restart` policy. Paths of the instance
 * (the program, the env file, the state dir) are mapped into the instance's disk directory.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AgentHandle, AgentLauncher, Boot, RestartPolicy } from './launcher'
import { startProcess } from './processes'

/** The [Service] settings the launcher honours. */
export interface UnitFile {
  environmentFiles: Array<{ path: string; optional: boolean }>
  environment: Record<string, string>
  execStart: string[]
  stateDirectory: string | null
  restart: RestartPolicy
}

/** Parses the [Service] section of a unit (repeated keys accumulate, as systemd reads them). */
export function parseUnit(text: string): UnitFile {
  const unit: UnitFile = {
    environmentFiles: [],
    environment: {},
    execStart: [],
    stateDirectory: null,
    restart: { when: 'no', prevent: [] },
  }
  let section = ''
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#') || line.startsWith(';')) continue
    const header = /^\[(.+)\]$/.exec(line)
    if (header) {
      section = header[1]!
      continue
    }
    if (section !== 'Service') continue
    const eq = line.indexOf('=')
    if (eq < 0) continue
    const key = line.slice(0, eq).trim()
    const value = line.slice(eq + 1).trim()
    switch (key) {
      case 'EnvironmentFile':
        unit.environmentFiles.push({ path: value.replace(/^-/, ''), optional: value.startsWith('-') })
        break
      case 'Environment':
        for (const [, name, quoted, bare] of value.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|(\S*))/g))
          unit.environment[name!] = quoted ?? bare ?? ''
        break
      case 'ExecStart':
        unit.execStart = value.replace(/^[-@:+!]+/, '').split(/\s+/)
        break
      case 'StateDirectory':
        unit.stateDirectory = value
        break
      case 'Restart':
        unit.restart.when = value === 'always' || value === 'on-failure' ? value : 'no'
        break
      case 'RestartPreventExitStatus':
        unit.restart.prevent.push(...value.split(/\s+/).map(Number).filter(Number.isInteger))
        break
    }
  }
  return unit
}

/** Reads an EnvironmentFile: `KEY=value` lines, optional quotes, `#` comments. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const raw of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw)
    if (!m) continue
    const value = m[2]!.trim()
    env[m[1]!] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value
  }
  return env
}

/** The launcher of `unit` (a node program): what systemd would run at boot from that disk. */
export function systemdUnitLauncher(unit: string, logName = 'agent.log'): AgentLauncher {
  return {
    unit,
    logName,
    start(boot: Boot): AgentHandle {
      const onDisk = (path: string) => join(boot.disk, path)
      const service = parseUnit(readFileSync(onDisk(`etc/systemd/system/${unit}`), 'utf8'))
      const env: Record<string, string> = {}
      for (const file of service.environmentFiles) {
        if (existsSync(onDisk(file.path)))
          Object.assign(env, parseEnvFile(readFileSync(onDisk(file.path), 'utf8')))
        else if (!file.optional) throw new Error(`${unit} on ${boot.instanceId}: ${file.path} is missing`)
      }
      Object.assign(env, service.environment)
      // The instance's paths live under its disk.
      for (const [key, value] of Object.entries(env)) if (value.startsWith('/')) env[key] = onDisk(value)
      if (service.stateDirectory)
        mkdirSync(onDisk(join('var/lib', service.stateDirectory)), { recursive: true, mode: 0o700 })
      const [program, ...args] =
        service.execStart[0] === '/usr/bin/env' ? service.execStart.slice(1) : service.execStart
      if (program !== 'node' && !program?.endsWith('/node'))
        throw new Error(`${unit}: ExecStart does not run node (${service.execStart.join(' ')})`)
      const child = startProcess(
        `${unit}@${boot.instanceId}`,
        process.execPath,
        args.map((a) => (a.startsWith('/') ? onDisk(a) : a)),
        {
          env: {
            PATH: process.env.PATH,
            ...env,
            AWS_EC2_METADATA_SERVICE_ENDPOINT: boot.imdsUrl,
            AWS_ENDPOINT_URL_EC2: boot.ec2Url,
            AWS_ENDPOINT_URL_PRICING: boot.pricingUrl,
            ...(boot.elbv2Url ? { AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: boot.elbv2Url } : {}),
            ...(boot.simClock ? { SPOTGUARD_SIM_CLOCK: boot.simClock } : {}),
          },
          logFile: boot.logFile,
        },
      )
      return {
        pid: child.pid,
        exited: child.exited,
        hasExited: child.hasExited,
        stop: () => child.stop(),
        kill: child.kill,
        restart: service.restart,
      }
    },
  }
}
