/** Waits on an e2e world's state through the operator API (never a fixed delay). */
import type { AgentRow, CommandRow, ReplicaRow } from './api'
import { queryD1 } from './d1'
import { eventually } from './eventually'
import type { E2eWorld } from './fleet-harness'

/** The agent once registered with an instance and online (its first reports follow). */
export function registered(world: E2eWorld, logicalAgentId: string): Promise<AgentRow> {
  return eventually(
    async () => {
      const agent = await world.api.agent(world.client.id, logicalAgentId)
      return agent?.instanceId && agent.status === 'online' ? agent : undefined
    },
    { what: `${logicalAgentId} registered`, timeoutMs: 30_000 },
  )
}

/** The command once completed; a failed command throws with the agent's message. */
export function finished(world: E2eWorld, commandId: string): Promise<CommandRow> {
  return eventually(
    async () => {
      const command = await world.api.command(commandId)
      if (command.status === 'failed') throw new Error(`command failed: ${command.message}`)
      return command.status === 'completed' ? command : undefined
    },
    { what: `command ${commandId} completed`, timeoutMs: 90_000 },
  )
}

/**
 * An emergency replica of `agentId`, ready: once every pool is priced (the replica's pool is chosen from
 * them), a rebalance recommendation for `instanceId` asks for it.
 */
export async function replicaAfterRebalance(
  world: E2eWorld,
  agentId: string,
  instanceId: string,
): Promise<ReplicaRow> {
  await eventually(
    async () =>
      (
        await queryD1(
          world.worker.persistDir,
          `select distinct series from price_quotes where series not like 'ondemand:%'`,
        )
      ).length >= 3,
    { what: 'every pool priced', timeoutMs: 30_000 },
  )
  world.fleet.region.rebalance(instanceId)
  return eventually(
    async () =>
      (await world.api.replicas(world.client.id)).find(
        (r) => r.agentId === agentId && r.replica.status === 'ready',
      ),
    { what: 'a replica ready', timeoutMs: 60_000 },
  )
}
