/** The agent bundle as a real Node process: its JSON log lines collected, waited on, and stopped by pid. */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

export const REPO = resolve(import.meta.dirname, '..', '..', '..')
export const BUNDLE = join(REPO, 'agent', 'dist', 'spotguard-agent.js')

/** Builds the bundle once per test run (esbuild takes well under a second). */
let built: Promise<void> | null = null
export function buildBundle(): Promise<void> {
  built ??= promisify(execFile)('node', [join(REPO, 'agent', 'build.mjs')], { cwd: REPO }).then(() => {
    if (!existsSync(BUNDLE)) throw new Error('bundle not built')
  })
  return built
}

export type LogLine = { time: string; level: string; msg: string } & Record<string, unknown>

export interface AgentProcess {
  readonly child: ChildProcess
  /** Epoch ms the process was spawned. */
  readonly spawnedAt: number
  readonly lines: LogLine[]
  readonly stderr: string[]
  /** Resolves with the first log line (past or future) matching `test`. */
  waitFor(test: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>
  /** SIGTERM (or another signal); resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  readonly exited: Promise<number | null>
}

/** The node flags of agent/spotguard-agent.service's ExecStart (the installed agent runs with them). */
export const NODE_FLAGS = /ExecStart=.*?\bnode ((?:--\S+ )*)/
  .exec(readFileSync(join(REPO, 'agent', 'spotguard-agent.service'), 'utf8'))![1]!
  .trim()
  .split(' ')

export function startAgentProcess(env: Record<string, string>, args: string[] = [], nodeFlags: string[] = NODE_FLAGS): AgentProcess {
  const spawnedAt = Date.now()
  const child = spawn(process.execPath, [...nodeFlags, BUNDLE, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: LogLine[] = []
  const stderr: string[] = []
  const listeners = new Set<() => void>()
  let buffer = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk
    let i: number
    while ((i = buffer.indexOf('\n')) >= 0) {
      const raw = buffer.slice(0, i)
      buffer = buffer.slice(i + 1)
      try {
        lines.push(JSON.parse(raw) as LogLine)
      } catch {
        lines.push({ time: '', level: 'raw', msg: raw })
      }
    }
    for (const l of listeners) l()
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return {
    child,
    spawnedAt,
    lines,
    stderr,
    exited,
    waitFor(test, what, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.find(test)
          if (!hit) return false
          cleanup()
          resolve(hit)
          return true
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`agent never logged ${what}; last lines:\n${lines.slice(-15).map((l) => JSON.stringify(l)).join('\n')}\n${stderr.join('')}`))
        }, timeoutMs)
        const cleanup = () => {
          clearTimeout(timer)
          listeners.delete(onData)
        }
        const onData = () => void check()
        if (check()) return
        listeners.add(onData)
        void exited.then(() => {
          if (!check()) {
            cleanup()
            reject(new Error(`agent exited before logging ${what}:\n${lines.slice(-15).map((l) => JSON.stringify(l)).join('\n')}\n${stderr.join('')}`))
          }
        })
      })
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}
