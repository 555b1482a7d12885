/** Waits on an e2e world's state through the operator API (never a fixed delay). */
import type { AgentRow, CommandRow } from './api'
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
