/** The one readable status line of a local run: simulated time, each agent's placement, prices, signals. */
import type { Fleet } from './fleet'
import { fleetStatus } from './control-api'

export function statusLine(fleet: Fleet): string {
  const status = fleetStatus({ region: fleet.region, supervisor: fleet.supervisor, primaryOf: fleet.primaryOf, logicalAgentIds: fleet.logicalAgentIds })
  const agents = status.agents
    .map((a) => {
      const where = a.instance_id ? `${a.mode ?? '?'} ${a.az?.slice(-1) ?? '?'} ${a.instance_id.slice(-4)}` : 'no instance'
      const replicas = a.instances.filter((i) => i.replica).length
      return `${a.agent}: ${where}${replicas ? ` +${replicas}r` : ''}${a.processes.length ? '' : ' (agent down)'}`
    })
    .join(' | ')
  const prices = Object.entries(status.prices)
    .map(([az, p]) => `${az.slice(-1)} $${p.toFixed(4)}`)
    .join(' ')
  const time = status.simulated_time.slice(11, 19)
  return `[${time}] ${agents} || spot ${prices} (od $${status.on_demand_price}) | signals r${status.signals_sent.rebalance} i${status.signals_sent.interrupt} | crons ${fleet.crons.runs}`
}

/** Keeps the status line on screen: rewritten in place on a terminal, a line every 30 s otherwise. */
export function showStatus(fleet: Fleet, out: NodeJS.WriteStream = process.stdout): () => void {
  const tty = out.isTTY
  const timer = setInterval(
    () => {
      const line = statusLine(fleet)
      if (tty) out.write(`\r\x1b[K${line.slice(0, (out.columns ?? 200) - 1)}`)
      else out.write(`${line}\n`)
    },
    tty ? 1_000 : 30_000,
  )
  return () => {
    clearInterval(timer)
    if (tty) out.write('\n')
  }
}
