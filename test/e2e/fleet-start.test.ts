/**
 * `npm start` on its own port and state dir: it serves, prints the dashboard URL and the login, runs
 * the agents; SIGTERM to its process group leaves no process behind, also when start.ts is busy at
 * that moment; a second start on the same state
 * creates no second admin or demo client.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT } from '../../scripts/fleet/control-plane'
import { freePort, isPortTaken } from '../../scripts/fleet/ports'
import { liveDescendantRows, stillRunning } from '../../scripts/fleet/processes'
import { OperatorApi } from '../support/api'
import { eventually } from '../support/eventually'

const adminToken = `start-test-${crypto.randomUUID()}`
let stateDir: string

afterAll(async () => {
  if (stateDir && !process.env.SPOTGUARD_KEEP_STATE) await rm(stateDir, { recursive: true, force: true })
})

/** Runs npm start in its own process group until it printed its login; returns how to stop it. */
async function npmStart(port: number) {
  const startedAt = Date.now()
  const child = spawn('npm', ['start', '--', '--port', String(port), '--state-dir', stateDir, '--agents', '1'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ADMIN_TOKEN: adminToken },
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += String(chunk)))
  child.stderr.on('data', (chunk) => (output += String(chunk)))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  await eventually(() => output.includes('Login:') || child.exitCode !== null, { what: 'npm start ready', timeoutMs: 60_000 })
  expect(child.exitCode, output).toBeNull()
  return {
    output: () => output,
    readyMs: Date.now() - startedAt,
    /**
     * SIGTERM to the process group; resolves with the pids that were running under it. `busyMs`: the
     * process running start.ts is frozen (SIGSTOP) from just before the signal until that long after
     * it, as an event loop busy on a loaded machine is: nothing may take that for an unresponsive child
     * and kill it, which would leave wrangler's own process group running.
     */
    async terminate(busyMs = 0) {
      const descendants = liveDescendantRows(child.pid!)
      // The innermost process whose command runs start.ts (npm's shell and any wrapper run it too).
      const runningStart = descendants.filter((p) => commandLine(p.pid).includes('scripts/start.ts'))
      const start = runningStart.find((p) => !runningStart.some((q) => q.ppid === p.pid))
      if (busyMs > 0) process.kill(start!.pid, 'SIGSTOP')
      process.kill(-child.pid!, 'SIGTERM')
      if (busyMs > 0) {
        // The stall is the fault injected (its length, not a wait for anything).
        await new Promise((resolve) => setTimeout(resolve, busyMs))
        try {
          process.kill(start!.pid, 'SIGCONT')
        } catch {
          // ESRCH: something killed it while it was busy; what it started is checked below.
        }
      }
      await exited
      // By pid AND start time: under a loaded suite a pid freed here may already name another process.
      await eventually(
        () => {
          const running = stillRunning(descendants)
          if (running.length > 0) throw new Error(`still running: ${running.map((p) => `${p.pid} (${p.state})`).join(', ')}`)
          return true
        },
        { what: 'every child of npm start stopped', timeoutMs: 30_000 },
      )
      return descendants.map((p) => p.pid)
    },
  }
}

describe('npm start', () => {
  it('serves the control plane, the simulator and an agent, prints the login, and SIGTERM to its group stops everything', async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'spotguard-start-'))
    const port = await freePort()
    const api = new OperatorApi(`http://127.0.0.1:${port}`, adminToken)

    const first = await npmStart(port)
    expect(first.readyMs).toBeLessThan(60_000)
    expect(first.output()).toContain(`http://127.0.0.1:${port}/login`)
    const login = first.output().match(/Login:\s+(\S+) \/ (\S+)/)
    expect(login?.[1]).toBe('admin@spotguard.local')
    const clients = (await api.call<{ id: string; name: string }[]>('GET', '/api/admin/clients')).body
    const demo = clients.filter((c) => c.name === 'Demo client')
    expect(demo).toHaveLength(1)
    await eventually(async () => (await api.agent(demo[0]!.id, 'agent-1'))?.status === 'online', { what: 'the demo agent online', timeoutMs: 30_000 })
    const stopped = await first.terminate()
    expect(stopped.length).toBeGreaterThanOrEqual(4) // npm, node, wrangler and workerd, the agent
    // It says so only once every process is gone and its port is free again.
    await eventually(() => first.output().includes('stopped.'), { what: '"stopped." printed', timeoutMs: 5_000 })
    expect(await isPortTaken(port)).toBe(false)

    const second = await npmStart(port)
    expect(second.output()).toContain(`Login:       ${login![1]} / ${login![2]}`)
    const again = (await api.call<{ id: string; name: string }[]>('GET', '/api/admin/clients')).body
    expect(again.filter((c) => c.name === 'Demo client').map((c) => c.id)).toEqual([demo[0]!.id])
    const admins = (await api.call<{ email: string }[]>('GET', '/api/admin/users')).body
    expect(admins.filter((u) => u.email === 'admin@spotguard.local')).toHaveLength(1)
    const stoppedBusy = await second.terminate(500)
    expect(stoppedBusy.length).toBeGreaterThanOrEqual(4)
    await eventually(() => second.output().includes('stopped.'), { what: '"stopped." printed after a busy stop', timeoutMs: 5_000 })
    expect(await isPortTaken(port)).toBe(false)
  })
})

/** A process's command line, arguments joined by spaces ('' once it is gone). */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}
