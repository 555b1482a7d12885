/**
 * Child processes of the fleet (wrangler dev, agents). Each runs in its own process group, so that
 * stopping it also stops what it started (wrangler's workerd), and its output goes to a log file.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, readFileSync, readdirSync } from 'node:fs'

export interface ManagedProcess {
  readonly name: string
  readonly pid: number
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  readonly exited: Promise<number | null>
  readonly hasExited: () => boolean
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves when no process of the group is left. */
  stop(graceMs?: number): Promise<void>
  /** SIGKILL to the process group at once (a crash, for fault tests). */
  kill(): Promise<void>
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** stdout and stderr are appended here. */
  logFile: string
}

/** Every process started here and not yet exited: what a shutdown must stop. */
const live = new Set<ManagedProcess>()

/** Stops every process started by this Node process that is still running. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()))
}

/** SIGKILLs every process started by this Node process that is still running. */
export async function killAllProcesses(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()))
}

export function startProcess(name: string, command: string, args: string[], options: StartOptions): ManagedProcess {
  const log = createWriteStream(options.logFile, { flags: 'a' })
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.pipe(log, { end: false })
  child.stderr?.pipe(log, { end: false })
  const pid = child.pid
  if (pid === undefined) throw new Error(`${name}: could not start ${command}`)
  let done = false
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      done = true
      resolve(code)
    })
  })
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal)
    } catch {
      // ESRCH: the group is already gone.
    }
  }
  const stop = async (graceMs = 5_000) => {
    signalGroup('SIGTERM')
    const deadline = Date.now() + graceMs
    while (liveGroupMembers(pid).length > 0 && Date.now() < deadline) await pause(50)
    if (liveGroupMembers(pid).length > 0) signalGroup('SIGKILL')
    while (liveGroupMembers(pid).length > 0) await pause(20)
    if (!done) await exited
    log.end()
  }
  const kill = async () => {
    signalGroup('SIGKILL')
    while (liveGroupMembers(pid).length > 0) await pause(20)
    if (!done) await exited
  }
  const managed: ManagedProcess = { name, pid, exited, hasExited: () => done, stop, kill }
  live.add(managed)
  void exited.then(() => live.delete(managed))
  return managed
}

/** Pids of the processes of a process group that are alive (zombies excluded: they hold no resources). */
export function liveGroupMembers(pgid: number): number[] {
  return processTable()
    .filter((p) => p.pgid === pgid && p.state !== 'Z' && p.state !== 'X')
    .map((p) => p.pid)
}

/** Live descendants of a process, found through parent links in /proc. */
export function liveDescendants(rootPid: number): number[] {
  const table = processTable()
  const found = new Set<number>([rootPid])
  let grew = true
  while (grew) {
    grew = false
    for (const p of table) {
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.add(p.pid)
        grew = true
      }
    }
  }
  found.delete(rootPid)
  return table.filter((p) => found.has(p.pid) && p.state !== 'Z' && p.state !== 'X').map((p) => p.pid)
}

/** Whether a pid is a live (non-zombie) process. */
export function isAlive(pid: number): boolean {
  return processTable().some((p) => p.pid === pid && p.state !== 'Z' && p.state !== 'X')
}

interface ProcessRow {
  pid: number
  ppid: number
  pgid: number
  state: string
}

function processTable(): ProcessRow[] {
  const rows: ProcessRow[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // The command name (field 2) may hold spaces and parentheses: parse after its closing one.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      rows.push({ pid: Number(entry), state: fields[0] ?? '?', ppid: Number(fields[1]), pgid: Number(fields[2]) })
    } catch {
      // The process ended while we read the table.
    }
  }
  return rows
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
