/**
 * How the simulator boots an agent installed on an instance's disk, as systemd would: the supervisor
 * (agents.ts) finds the units enabled on a running instance's disk and hands each to the launcher of
 * that unit. `systemdUnitLauncher` (unit-launcher.ts) runs a unit whose ExecStart is a node program
 * (the 5.x agent's `spotguard-agent.service`); another kind of agent (the installed 4.0.0 agent's
 * `spot-optimizer-agent.service`, emulated) plugs in by implementing `AgentLauncher` and passing it in
 * `FleetOptions.launchers`.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

/** Where `systemctl enable` links a unit wanted at boot, relative to the instance's root. */
export const WANTS_DIR = 'etc/systemd/system/multi-user.target.wants'

/** One boot of one agent: what the instance gives it. */
export interface Boot {
  instanceId: string
  /** The instance's root file system (`/` of the instance): its installed files, env file and state. */
  disk: string
  /** What stands in for AWS itself: the instance's own IMDS, the region's EC2 and Price List. */
  imdsUrl: string
  ec2Url: string
  pricingUrl: string
  /** The region's ELBv2 (AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2). */
  elbv2Url?: string
  region: string
  /** The simulated clock (`<origin epoch ms>x<speed>`, SPOTGUARD_SIM_CLOCK); null on real time. */
  simClock: string | null
  /** Where its output goes (outside the disk, kept after the instance is gone). */
  logFile: string
}

/** systemd's Restart= and RestartPreventExitStatus= of the unit. */
export interface RestartPolicy {
  /** 'on-failure': an agent that exited 0 stays stopped; 'always': restarted whatever its exit; 'no'. */
  when: 'on-failure' | 'always' | 'no'
  /** Exit codes never restarted (78: a configuration error). */
  prevent: number[]
}

/** A started agent: a process, or anything that stops like one. */
export interface AgentHandle {
  readonly pid: number | null
  /** Resolves with the exit code (null: killed by a signal) once it exited. */
  readonly exited: Promise<number | null>
  hasExited(): boolean
  /** SIGTERM, as at shutdown; resolves once it is gone. */
  stop(): Promise<void>
  /** SIGKILL (a crash). */
  kill(): Promise<void>
  readonly restart: RestartPolicy
}

export interface AgentLauncher {
  /** The systemd unit that runs this kind of agent (`spotguard-agent.service`). */
  readonly unit: string
  /** File name of its log in the instance's log directory. */
  readonly logName: string
  start(boot: Boot): AgentHandle
}

/** The units enabled on a disk (`systemctl enable` made a link in WANTS_DIR). */
export function enabledUnits(disk: string): string[] {
  const wants = join(disk, WANTS_DIR)
  return existsSync(wants) ? readdirSync(wants).sort() : []
}
