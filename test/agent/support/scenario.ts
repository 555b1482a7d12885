/** An agent bundle process on a simulated instance, registered with a real control plane (wrangler dev). */
import type { Clock } from '../../fakes'
import { createClient, type CreatedClient } from '../../support/clients'
import { queryD1 } from '../../support/d1'
import type { TestWorker } from '../../support/worker'
import { NODE_FLAGS, startAgentProcess, type AgentProcess } from './process'
import { startSimulation, type Simulation } from './simulation'

export interface Scenario {
  sim: Simulation
  client: CreatedClient
  agent: AgentProcess
  agentId: string
  /** Starts the agent again on the same state dir (after a kill or a stop). */
  restart(): Promise<AgentProcess>
  sql<Row = Record<string, unknown>>(query: string): Promise<Row[]>
  close(): Promise<void>
}

let counter = 0

export async function startScenario(
  worker: TestWorker,
  options: {
    env?: Record<string, string>
    lifecycle?: 'spot' | 'on-demand'
    nodeFlags?: string[]
    clock?: Clock
  } = {},
): Promise<Scenario> {
  const sim = await startSimulation({ lifecycle: options.lifecycle, clock: options.clock })
  const client = await createClient(worker.url, worker.adminToken, `agent-e2e-${process.pid}-${++counter}`)
  const env = sim.agentEnv(worker.url, client.token, { SPOTGUARD_LOG_LEVEL: 'debug', ...options.env })
  const nodeFlags = options.nodeFlags ?? NODE_FLAGS
  let agent = startAgentProcess(env, [], nodeFlags)
  const registered = await agent.waitFor((l) => l.msg === 'registered', 'registered')
  const scenario: Scenario = {
    sim,
    client,
    agent,
    agentId: String(registered.agent_id),
    async restart() {
      agent = startAgentProcess(env, [], nodeFlags)
      scenario.agent = agent
      return agent
    },
    sql: (query) => queryD1(worker.persistDir, query),
    async close() {
      await scenario.agent.stop('SIGKILL')
      await sim.close()
    },
  }
  return scenario
}
