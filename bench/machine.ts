/** One line saying where a benchmark ran (CPU, cores, memory, OS, Node, and how busy the machine was). */
import { cpus, loadavg, release, totalmem, type } from 'node:os'

export function machineLine(): string {
  const cpu = cpus()
  return `${cpu[0]?.model.trim() ?? 'unknown CPU'} × ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GB RAM, ${type()} ${release()}, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} at start`
}
