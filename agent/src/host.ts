/**
 * The machine the agent runs on, as a dependency: the uninstall command disables the systemd unit and
 * removes files through it, the drain runs hooks and stops a unit through it, so tests record the calls
 * instead of touching the test machine.
 */
import { execFile, spawn } from 'node:child_process'
import { constants } from 'node:fs'
import { access, rm, stat } from 'node:fs/promises'
import { resolve } from 'node:path'

/** Where install.sh puts the program. */
export const INSTALLED_PROGRAM = '/opt/spotguard/spotguard-agent.js'

/** Kept of a program's stdout and stderr each (the end: where a failure says why). */
const OUTPUT_LIMIT = 4096

/** How a program run by `execute` ended. */
export type Execution =
  | { kind: 'exited'; code: number; stdout: string; stderr: string }
  /** Killed when its signal aborted (a timeout), or by something else (`by`). */
  | { kind: 'killed'; by: string; stdout: string; stderr: string }
  | { kind: 'failed_to_start'; message: string }

export interface Host {
  /**
   * True when this process is the program install.sh installed: a bundle run from elsewhere (the local
   * fleet, tests, a manual run) must never disable or delete the machine's own agent.
   */
  readonly installed: boolean
  /** Runs a program; rejects when it cannot start or exits non-zero. */
  run(program: string, args: string[]): Promise<void>
  /**
   * Runs a program to its end, or until `signal` aborts: then it and every process it started are
   * killed. Never rejects: a non-zero exit is an outcome.
   */
  execute(program: string, args: string[], signal: AbortSignal): Promise<Execution>
  /** Whether a file is there for this process to execute. */
  probe(path: string): Promise<'absent' | 'not_executable' | 'executable'>
  /** Removes a file or a directory tree; a missing path is not an error. */
  remove(path: string): Promise<void>
}

export const systemHost: Host = {
  installed: process.argv[1] !== undefined && resolve(process.argv[1]) === INSTALLED_PROGRAM,
  run(program, args) {
    return new Promise((resolve, reject) => {
      execFile(program, args, { timeout: 30_000 }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`${program} ${args.join(' ')} failed: ${stderr.trim() || err.message}`))
        else resolve()
      })
    })
  },
  execute(program, args, signal) {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve({ kind: 'killed', by: 'timeout', stdout: '', stderr: '' })
      // Its own process group, so a timeout kills what a hook script started too (`sleep` under `sh`).
      const child = spawn(program, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      const keep = (text: string, chunk: Buffer) => (text + chunk.toString('utf8')).slice(-OUTPUT_LIMIT)
      child.stdout.on('data', (chunk: Buffer) => (stdout = keep(stdout, chunk)))
      child.stderr.on('data', (chunk: Buffer) => (stderr = keep(stderr, chunk)))
      let timedOut = false
      const kill = () => {
        timedOut = true
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
        } catch {
          // Already gone.
        }
      }
      signal.addEventListener('abort', kill, { once: true })
      child.once('error', (err) => {
        signal.removeEventListener('abort', kill)
        resolve({ kind: 'failed_to_start', message: err.message })
      })
      child.once('close', (code, by) => {
        signal.removeEventListener('abort', kill)
        if (code !== null && !timedOut) resolve({ kind: 'exited', code, stdout, stderr })
        else resolve({ kind: 'killed', by: timedOut ? 'timeout' : String(by), stdout, stderr })
      })
    })
  },
  async probe(path) {
    const file = await stat(path).catch(() => null)
    if (!file?.isFile()) return 'absent'
    return access(path, constants.X_OK).then(
      () => 'executable' as const,
      () => 'not_executable' as const,
    )
  },
  remove: (path) => rm(path, { recursive: true, force: true }),
}
