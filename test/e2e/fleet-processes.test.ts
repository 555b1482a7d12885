/**
 * Stopping what the fleet started (scripts/fleet/processes.ts): SIGTERM, SIGKILL after the grace
 * period, and back only when every process is gone and the ports are free — also for a child that
 * ignores SIGTERM, left the process group and outlived its parent (workerd after wrangler died).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, isPortTaken } from '../../scripts/fleet/ports'
import {
  isAlive,
  liveDescendants,
  ownedIn,
  startProcess,
  stopAllProcesses,
  type ProcessRow,
} from '../../scripts/fleet/processes'
import { eventually } from '../support/eventually'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spotguard-processes-'))
})
afterAll(async () => {
  await stopAllProcesses()
  await rm(dir, { recursive: true, force: true })
})

/** A Node server on `port` that ignores SIGTERM and keeps a core busy, like the stuck workerd. */
const stubbornServer = (port: number) =>
  `process.on('SIGTERM', () => {}); require('net').createServer().listen(${port}, '127.0.0.1');` +
  `setInterval(() => { const end = Date.now() + 20; while (Date.now() < end); }, 25)`

describe('stopping a started process', () => {
  it('never counts (nor signals) a group that another process leads under the pid it reused', () => {
    const row = (pid: number, pgid: number, startTime: number, ppid = 1): ProcessRow => ({
      pid,
      ppid,
      pgid,
      state: 'S',
      startTime,
    })
    // Started as pid 100 at tick 5000; 120 was seen under it and left its group.
    const seen = new Map([
      [100, 5000],
      [120, 5100],
    ])
    const pids = (table: ProcessRow[]) => ownedIn(table, 100, seen).map((p) => p.pid)
    expect(pids([row(100, 100, 5000), row(101, 100, 5050, 100), row(120, 120, 5100, 100)])).toEqual([
      100, 101, 120,
    ])
    // The leader died; what it left in its group is still its own (the pid is not reused meanwhile).
    expect(pids([row(101, 100, 5050), row(120, 120, 5100)])).toEqual([101, 120])
    // Its group gone, pid 100 now leads someone else's group (another engineer's process, say).
    expect(pids([row(100, 100, 9000), row(102, 100, 9001, 100), row(120, 120, 5100)])).toEqual([120])
  })

  it('kills a busy child that ignores SIGTERM, left the group and was re-parented, and frees its port', async () => {
    const port = await freePort()
    // bash starts the server in a session (and group) of its own, as wrangler starts workerd.
    const parent = startProcess(
      'parent',
      'bash',
      ['-c', `setsid ${process.execPath} -e "${stubbornServer(port)}" & wait`],
      {
        logFile: join(dir, 'parent.log'),
        ports: [port],
      },
    )
    await eventually(() => isPortTaken(port), { what: 'the server listening', timeoutMs: 10_000 })
    const [server] = await eventually(
      () => liveDescendants(parent.pid).length > 0 && liveDescendants(parent.pid),
      {
        what: 'the server under its parent',
        timeoutMs: 10_000,
      },
    )
    await eventually(() => parent.seen().includes(server!), { what: 'the server tracked', timeoutMs: 10_000 })
    // Its parent dies first: the server is re-parented, in no group of ours, and ignores SIGTERM.
    process.kill(parent.pid, 'SIGKILL')
    await parent.exited
    expect(isAlive(server!)).toBe(true)

    const started = Date.now()
    await parent.stop(300)
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    expect(isAlive(server!)).toBe(false)
    expect(await isPortTaken(port)).toBe(false)
  })

  it('escalates to SIGKILL for a child in its group that ignores SIGTERM', async () => {
    const child = startProcess('busy', 'bash', ['-c', `trap '' TERM; while :; do :; done`], {
      logFile: join(dir, 'busy.log'),
    })
    await running(child.pid)
    await child.stop(200)
    expect(child.hasExited()).toBe(true)
    expect(isAlive(child.pid)).toBe(false)
  })
})

/** Waits until the process runs (its /proc entry is there). */
async function running(pid: number) {
  await eventually(() => isAlive(pid), { what: `process ${pid} running`, timeoutMs: 10_000 })
}
