/** Telling an agent to act: a command queued in its Durable Object (pushed at once when connected). */
import type { Agent } from '../db/schema'
import type { Env } from '../env'
import { log } from '../log'
import { commandTypesFor, type CommandType } from '../protocol'
import { sessionOf } from '../session/stub'
import type { EnqueueResult, NewCommand } from '../session/types'

/** Whether the agent's version understands this command type (legacy agents know only a few). */
export function understands(agent: Agent, type: CommandType): boolean {
  return commandTypesFor(agent.agentVersion).includes(type)
}

/** Queues a command for the agent. */
export function tellAgent(
  env: Env,
  agent: Agent,
  command: Omit<NewCommand, 'clientId' | 'agentId' | 'agentVersion'>,
): Promise<EnqueueResult> {
  return sessionOf(env, agent.id).enqueue({
    ...command,
    clientId: agent.clientId,
    agentId: agent.id,
    agentVersion: agent.agentVersion,
  })
}

/**
 * Tells a connected agent its settings changed (`config_changed`: it fetches GET config again); an
 * agent not connected reads them at its next config fetch. Never throws: the settings are stored.
 */
export async function tellConfigChanged(env: Env, agentId: string): Promise<void> {
  try {
    await sessionOf(env, agentId).configChanged()
  } catch (err) {
    log.error({ message: 'config_changed not delivered', agentId, error: String(err) })
  }
}
