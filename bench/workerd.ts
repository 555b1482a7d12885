/** What the workerd processes of a test Worker (a process group under wrangler dev) use, from /proc. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { liveGroupMembers } from '../scripts/fleet/processes'

/** CPU time (user + system, ms) of the workerd processes of the process group `pid`. */
export function workerdCpuMs(pid: number): number {
  let ticks = 0
  for (const stat of workerdFiles(pid, 'stat')) {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(fields[11]) + Number(fields[12])
  }
  return ticks * 10 // USER_HZ is 100 on Linux.
}

/** Resident memory (MB) of the workerd processes of the process group `pid`. */
export function workerdRssMb(pid: number): number {
  let kb = 0
  for (const status of workerdFiles(pid, 'status')) kb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return kb / 1024
}

/** The soft open-files limit of a process. */
export function openFilesLimit(pid: number): number | null {
  const match = /Max open files\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))
  return match ? Number(match[1]) : null
}

/** The open-files limit of the workerd of the process group `pid`. */
export function workerdOpenFilesLimit(pid: number): number | null {
  const [workerd] = workerdPids(pid)
  return workerd === undefined ? null : openFilesLimit(workerd)
}

function workerdPids(pid: number): number[] {
  return liveGroupMembers(pid).filter((member) => {
    try {
      return readFileSync(`/proc/${member}/stat`, 'utf8').includes('(workerd)')
    } catch {
      return false
    }
  })
}

function workerdFiles(pid: number, file: 'stat' | 'status'): string[] {
  const texts: string[] = []
  for (const member of workerdPids(pid)) {
    try {
      texts.push(readFileSync(`/proc/${member}/${file}`, 'utf8'))
    } catch {
      // Ended meanwhile.
    }
  }
  return texts
}

/** What a file descriptor is, from its /proc link: a socket, a Durable Object's storage, D1, or else. */
export type DescriptorKind = 'socket' | 'object_storage' | 'd1' | 'other'

/**
 * The kind of a descriptor from its `/proc/<pid>/fd/<n>` link. Miniflare keeps each object's SQLite
 * database (and its `-wal`, `-shm`) under `<persist>/v3/do/<script>-<class>/`, next to the namespace's
 * alarm index `metadata.sqlite` (counted as other), and D1 under `<persist>/v3/d1/`.
 */
export function descriptorKind(target: string): DescriptorKind {
  if (target.startsWith('socket:')) return 'socket'
  if (target.includes('/v3/d1/')) return 'd1'
  if (
    target.includes('/v3/do/') &&
    /\.sqlite(-wal|-shm)?$/.test(target) &&
    !/\/metadata\.sqlite/.test(target)
  )
    return 'object_storage'
  return 'other'
}

/** One process's open descriptors by kind, and how many objects' databases they hold open. */
export interface Descriptors {
  pid: number
  total: number
  byKind: Record<DescriptorKind, number>
  /** Distinct object databases open (a live, not hibernated, object holds its own). */
  objectsOpen: number
}

/** Counts descriptors by kind from their link targets. */
export function countDescriptors(pid: number, targets: readonly string[]): Descriptors {
  const byKind: Record<DescriptorKind, number> = { socket: 0, object_storage: 0, d1: 0, other: 0 }
  const objects = new Set<string>()
  for (const target of targets) {
    const kind = descriptorKind(target)
    byKind[kind]++
    if (kind === 'object_storage') objects.add(target.replace(/-(wal|shm)$/, ''))
  }
  return { pid, total: targets.length, byKind, objectsOpen: objects.size }
}

/** A process's open descriptors, read from /proc (a descriptor closed meanwhile is skipped). */
export function descriptorsOf(pid: number): Descriptors {
  const targets: string[] = []
  let fds: string[] = []
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch {
    // Ended meanwhile.
  }
  for (const fd of fds) {
    try {
      targets.push(readlinkSync(`/proc/${pid}/fd/${fd}`))
    } catch {
      // Closed meanwhile.
    }
  }
  return countDescriptors(pid, targets)
}

/** The descriptors of each workerd process of the process group `pid` (wrangler's proxy has its own). */
export function workerdDescriptors(pid: number): Descriptors[] {
  return workerdPids(pid).map(descriptorsOf)
}
