/** What the workerd processes of a test Worker (a process group under wrangler dev) use, from /proc. */
import { readdirSync, readFileSync } from 'node:fs'
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

/** Open file descriptors of the workerd processes of the process group `pid`. */
export function workerdOpenFiles(pid: number): number {
  let open = 0
  for (const member of workerdPids(pid)) {
    try {
      open += readdirSync(`/proc/${member}/fd`).length
    } catch {
      // Ended meanwhile.
    }
  }
  return open
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
