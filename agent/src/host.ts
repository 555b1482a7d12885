/**
 * The machine the agent runs on, as a dependency: the uninstall command disables the systemd unit and
 * removes files through it, so tests record the calls instead of touching the test machine.
 */
import { execFile } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { resolve } from 'node:path'

/** Where install.sh puts the program. */
export const INSTALLED_PROGRAM = '/opt/spotguard/spotguard-agent.js'

export interface Host {
  /**
   * True when this process is the program install.sh installed: a bundle run from elsewhere (the local
   * fleet, tests, a manual run) must never disable or delete the machine's own agent.
   */
  readonly installed: boolean
  /** Runs a program; rejects when it cannot start or exits non-zero. */
  run(program: string, args: string[]): Promise<void>
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
  remove: (path) => rm(path, { recursive: true, force: true }),
}
