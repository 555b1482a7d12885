/**
 * Child processes of the fleet (wrangler dev, agents). Each runs in its own process group, so that
 * stopping it also stops what it started (wrangler's workerd), and its output goes to a log file.
 * What a child starts may leave its group or outlive its parent (workerd re-parented to init once
 * wrangler is gone), so every process seen under a child is remembered by pid and start time, and
 * stopping ends each of them too: SIGTERM, then SIGKILL after the grace period, then waits until they
 * are gone and the child's ports are free.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, readFileSync, readdirSync } from 'node:fs'
import { isPortTaken } from './ports'

export interface ManagedProcess {
  readonly name: string
  readonly pid: number
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  readonly exited: Promise<number | null>
  readonly hasExited: () => boolean
  /**
   * SIGTERM to the process group and to every process seen under it, SIGKILL to what is left after
   * `graceMs`; resolves once none of them is alive and the child's ports are free.
   */
  stop(graceMs?: number): Promise<void>
  /** SIGKILL to the process group and everything seen under it at once (a crash, for fault tests). */
  kill(): Promise<void>
  /** Pids of the processes seen under this one so far (itself excluded), alive or not. */
  seen(): number[]
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** stdout and stderr are appended here. */
  logFile: string
  /** Loopback ports the process serves: `stop` returns once they are free again. */
  ports?: number[]
}

/** How often the processes under each child are looked up, ms. */
const TRACK_EVERY_MS = 1_000
/** After SIGKILL, how long a process may take to go before `stop` gives up with an error, ms. */
const KILL_TIMEOUT_MS = 15_000

/** Stops every process started by this Node process that is still running, or left some running. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...live.keys()].map((p) => p.stop()))
}

/** SIGKILLs every process started by this Node process that is still running, or left some running. */
export async function killAllProcesses(): Promise<void> {
  await Promise.all([...live.keys()].map((p) => p.kill()))
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: StartOptions,
): ManagedProcess {
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
  /** pid → start time of this process and of every process seen under it. */
  const seen = new Map<number, number>()
  /** Records what runs under it now; what of its group and of all it ever started still runs. */
  const track = (table: ProcessRow[]) => {
    const root = table.find((p) => p.pid === pid)
    if (root && !done && !seen.has(pid)) seen.set(pid, root.startTime)
    // Only while the pid is still this process: once another holds it, what runs under it is not ours.
    if (root && root.startTime === seen.get(pid))
      for (const p of descendantsIn(table, pid)) seen.set(p.pid, p.startTime)
    return ownedIn(table, pid, seen)
  }
  const remaining = () => track(processTable())
  const signalAll = (signal: NodeJS.Signals) => {
    const table = processTable()
    if (!isReused(table, pid, seen)) signalPid(-pid, signal)
    for (const p of track(table)) signalPid(p.pid, signal)
  }
  const waitUntilGone = async (until: number) => {
    while (remaining().length > 0 && Date.now() < until) await pause(50)
    return remaining()
  }
  const finish = async () => {
    const left = await waitUntilGone(Date.now() + KILL_TIMEOUT_MS)
    if (left.length > 0)
      throw new Error(`${name}: processes ${left.map((p) => p.pid).join(', ')} survived SIGKILL`)
    for (const port of options.ports ?? []) {
      const until = Date.now() + KILL_TIMEOUT_MS
      while ((await isPortTaken(port)) && Date.now() < until) await pause(50)
      if (await isPortTaken(port))
        throw new Error(`${name}: port ${port} still taken after its processes ended`)
    }
    forget(managed)
    if (!done) await exited
    log.end()
  }
  const stop = async (graceMs = 5_000) => {
    signalAll('SIGTERM')
    if ((await waitUntilGone(Date.now() + graceMs)).length > 0) signalAll('SIGKILL')
    await finish()
  }
  const kill = async () => {
    signalAll('SIGKILL')
    await finish()
  }
  const managed: ManagedProcess = {
    name,
    pid,
    exited,
    hasExited: () => done,
    stop,
    kill,
    seen: () => [...seen.keys()].filter((p) => p !== pid),
  }
  track(processTable())
  live.set(managed, track)
  startTracking()
  return managed
}

/**
 * Every process started here until it is stopped, or until it exited leaving nothing running (what a
 * shutdown must stop), with the lookup of what runs under it.
 */
const live = new Map<ManagedProcess, (table: ProcessRow[]) => ProcessRow[]>()
let tracker: NodeJS.Timeout | null = null

function forget(managed: ManagedProcess) {
  live.delete(managed)
  if (live.size === 0 && tracker) {
    clearInterval(tracker)
    tracker = null
  }
}

/** Looks up, once a second, the processes under every started process (one scan of /proc for all). */
function startTracking() {
  if (tracker) return
  tracker = setInterval(() => {
    const table = processTable()
    for (const [managed, track] of live) {
      if (track(table).length === 0 && managed.hasExited()) forget(managed)
    }
  }, TRACK_EVERY_MS)
  tracker.unref()
}

function signalPid(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(pid, signal)
  } catch {
    // ESRCH: already gone.
  }
}

/**
 * What of a started process (`pid`, the leader of its own group) still runs: its group's live members
 * while the group is still its own, and every process seen under it (`seen`: pid → start time, the same
 * process and not a reused pid). A pid, and so a group id, is reused only once its process and group
 * are gone: a live process holding `pid` with another start time leads a group that is not ours, on a
 * machine where other people's processes run too.
 */
export function ownedIn(table: ProcessRow[], pid: number, seen: ReadonlyMap<number, number>): ProcessRow[] {
  const groupIsOurs = !isReused(table, pid, seen)
  return table.filter(
    (p) => isLive(p) && ((groupIsOurs && p.pgid === pid) || seen.get(p.pid) === p.startTime),
  )
}

/** Whether another process than the one started holds `pid` now. */
function isReused(table: ProcessRow[], pid: number, seen: ReadonlyMap<number, number>): boolean {
  return table.some((p) => p.pid === pid && p.startTime !== seen.get(pid))
}

/** Pids of the processes of a process group that are alive (zombies excluded: they hold no resources). */
export function liveGroupMembers(pgid: number): number[] {
  return processTable()
    .filter((p) => p.pgid === pgid && isLive(p))
    .map((p) => p.pid)
}

/** Live descendants of a process, found through parent links in /proc. */
export function liveDescendants(rootPid: number): number[] {
  return liveDescendantRows(rootPid).map((p) => p.pid)
}

/** The live descendants of `rootPid` with their start times (what names a process: pids are reused). */
export function liveDescendantRows(rootPid: number): ProcessRow[] {
  return descendantsIn(processTable(), rootPid)
}

/** Of `rows`, those still running: same pid AND start time, not a zombie. */
export function stillRunning(rows: readonly ProcessRow[]): ProcessRow[] {
  const table = processTable()
  return rows.filter((row) =>
    table.some((p) => p.pid === row.pid && p.startTime === row.startTime && isLive(p)),
  )
}

function descendantsIn(table: ProcessRow[], rootPid: number): ProcessRow[] {
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
  return table.filter((p) => found.has(p.pid) && isLive(p))
}

/** Whether a pid is a live (non-zombie) process. */
export function isAlive(pid: number): boolean {
  return processTable().some((p) => p.pid === pid && isLive(p))
}

export interface ProcessRow {
  pid: number
  ppid: number
  pgid: number
  state: string
  /** Clock ticks after boot: with the pid, it names one process (pids are reused). */
  startTime: number
}

/** Zombies hold no resources: they count as gone. */
const isLive = (p: ProcessRow) => p.state !== 'Z' && p.state !== 'X'

function processTable(): ProcessRow[] {
  const rows: ProcessRow[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // The command name (field 2) may hold spaces and parentheses: parse after its closing one.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      rows.push({
        pid: Number(entry),
        state: fields[0] ?? '?',
        ppid: Number(fields[1]),
        pgid: Number(fields[2]),
        startTime: Number(fields[19]),
      })
    } catch {
      // The process ended while we read the table.
    }
  }
  return rows
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
