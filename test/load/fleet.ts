/**
 * A crowd of lightweight agents of one client: installed 4.0.0 and 3.2.0 pollers and new push agents,
 * started spread over a window so that they don't all register in the same second.
 */
import { LegacyAgent } from '../emulators/legacy-agent'
import { PushAgent } from './push-agent'
import type { Metrics } from './metrics'

export interface Crowd {
  legacy: LegacyAgent[]
  push: PushAgent[]
  /** Per command id, how many times an agent ran it. */
  executions: Map<string, number>
  stop(): Promise<void>
}

export interface CrowdOptions {
  serverUrl: string
  token: string
  agents: number
  /** Share of legacy pollers (the rest hold push sockets). */
  legacyShare: number
  spreadMs: number
  metrics: Metrics
  prefix: string
}

export function startCrowd(options: CrowdOptions): Crowd {
  const executions = new Map<string, number>()
  const onExecute = (commandId: string) => executions.set(commandId, (executions.get(commandId) ?? 0) + 1)
  const legacy: LegacyAgent[] = []
  const push: PushAgent[] = []
  const legacyCount = Math.round(options.agents * options.legacyShare)
  for (let i = 0; i < options.agents; i++) {
    const startDelayMs = (options.spreadMs * i) / options.agents
    const logicalAgentId = `${options.prefix}-${i}`
    if (i < legacyCount) {
      const agent = new LegacyAgent({
        serverUrl: options.serverUrl,
        identity: {
          version: i % 5 === 4 ? '3.2.0' : '4.0.0',
          token: options.token,
          logicalAgentId,
          instanceId: `i-${i.toString(16).padStart(17, '0')}`,
          instanceType: 't3.medium',
          region: 'us-east-1',
          az: `us-east-1${'abc'[i % 3]}`,
          mode: 'spot',
        },
        recorder: options.metrics,
        startDelayMs,
        onExecute,
      })
      legacy.push(agent)
      agent.start()
    } else {
      const agent = new PushAgent({ serverUrl: options.serverUrl, token: options.token, logicalAgentId, recorder: options.metrics, onExecute, startDelayMs })
      push.push(agent)
      agent.start()
    }
  }
  return {
    legacy,
    push,
    executions,
    async stop() {
      await Promise.all([...legacy.map((a) => a.stop()), ...push.map((a) => a.stop())])
    },
  }
}
