/**
 * Interruption notice → failover completed, measured across real processes: in a fresh one-agent world
 * per sample, a rebalance recommendation first gets the agent a ready replica, then an interruption
 * notice is put in its IMDS; the clock stops when the Elastic IP is on the replica (traffic moved), and
 * the promote command must then be completed.
 */
import { queryD1 } from '../test/support/d1'
import { eventually } from '../test/support/eventually'
import { startE2eWorld } from '../test/support/fleet-harness'
import { percentile } from '../test/load/metrics'

export interface FailoverResult {
  samples: number
  failover_p50_ms: number
  failover_max_ms: number
  /** As the control plane stores it (product.md): termination-imminent received → the promote command completed. */
  control_plane_failover_p50_ms: number
}

export async function measureFailover(samples = 3): Promise<FailoverResult> {
  const totals: number[] = []
  const ownParts: number[] = []
  for (let n = 0; n < samples; n++) {
    const world = await startE2eWorld({ agents: 1, agentEnv: { REBALANCE_CHECK_INTERVAL: '1', PRICING_REPORT_INTERVAL: '5' } })
    const { api, fleet, client, worker } = world
    try {
      const agent = await eventually(
        async () => {
          const row = await api.agent(client.id, 'agent-1')
          return row?.instanceId && row.status === 'online' ? row : undefined
        },
        { what: 'agent-1 registered', timeoutMs: 30_000 },
      )
      await eventually(async () => (await queryD1(worker.persistDir, `select distinct series from price_quotes where series not like 'ondemand:%'`)).length >= 2, { what: 'pools priced', timeoutMs: 30_000 })
      fleet.region.rebalance(agent.instanceId!)
      const replica = await eventually(async () => (await api.replicas(client.id)).find((r) => r.agentId === agent.id && r.replica.status === 'ready'), { what: 'replica ready', timeoutMs: 60_000 })
      const started = Date.now()
      fleet.region.interrupt(agent.instanceId!, 120)
      const addresses = () => [...fleet.region.ec2.state.addresses.values()]
      await eventually(() => addresses().some((a) => a.instanceId === replica.replica.instanceId), { what: 'Elastic IP on the replica', timeoutMs: 60_000, intervalMs: 20 })
      totals.push(Date.now() - started)
      await eventually(
        async () => {
          const rows = await queryD1<{ status: string }>(worker.persistDir, `select status from commands where agent_id = '${agent.id}' and command_type = 'promote_replica'`)
          return rows[0]?.status === 'completed'
        },
        { what: 'promote completed', timeoutMs: 60_000 },
      )
      // Stored as the command's completion is followed up (a moment after it).
      const stored = await eventually(
        async () => {
          const [event] = await queryD1<{ failover_ms: number | null }>(worker.persistDir, `select failover_ms from events where agent_id = '${agent.id}' and kind = 'termination_notice'`)
          return event && event.failover_ms !== null ? { ms: event.failover_ms } : undefined
        },
        { what: 'the failover time stored', timeoutMs: 30_000 },
      )
      ownParts.push(stored.ms)
    } finally {
      await world.stop()
    }
  }
  const sorted = [...totals].sort((a, b) => a - b)
  return {
    samples: totals.length,
    failover_p50_ms: percentile(sorted, 0.5),
    failover_max_ms: sorted.at(-1) ?? 0,
    control_plane_failover_p50_ms: percentile([...ownParts].sort((a, b) => a - b), 0.5),
  }
}
