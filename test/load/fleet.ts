/**
 * A crowd of lightweight agents of one client: installed 4.0.0 and 3.2.0 pollers and new push agents,
 * interleaved and started spread over a ramp, as a fleet of installed agents comes up over time rather
 * than all in the same second. A first registration that fails is retried by the agent itself (the
 * installed agent after systemd's 10 s, the push agent with backoff): recorded as retried, not failed.
 */
import { LegacyAgent } from '../emulators/legacy-agent'
import type { Recorder } from '../emulators/legacy-agent'
import { PushAgent } from './push-agent'
import type { Metrics } from './metrics'

export interface Crowd {
  legacy: LegacyAgent[]
  push: PushAgent[]
  /** Per command id, how many times an agent ran it. */
  executions: Map<string, number>
  /** Per command id, when an agent first ran it (performance.now()). */
  firstRunAt: Map<string, number>
  stop(): Promise<void>
}

export interface CrowdOptions {
  serverUrl: string
  token: string
  agents: number
  /** Share of legacy pollers (the rest hold push sockets), interleaved with them. */
  legacyShare: number
  /** Agent i starts at i/agents of this window. */
  spreadMs: number
  metrics: Metrics
  prefix: string
}

export function startCrowd(options: CrowdOptions): Crowd {
  const executions = new Map<string, number>()
  const firstRunAt = new Map<string, number>()
  const onExecute = (commandId: string) => {
    if (!firstRunAt.has(commandId)) firstRunAt.set(commandId, performance.now())
    executions.set(commandId, (executions.get(commandId) ?? 0) + 1)
  }
  const legacy: LegacyAgent[] = []
  const push: PushAgent[] = []
  for (let i = 0; i < options.agents; i++) {
    const startDelayMs = (options.spreadMs * i) / options.agents
    const logicalAgentId = `${options.prefix}-${i}`
    const isLegacy = Math.floor((i + 1) * options.legacyShare) > Math.floor(i * options.legacyShare)
    let agent: { agentId: string | null } | null = null
    const recorder = recorderOf(options.metrics, () => agent?.agentId ?? null)
    if (isLegacy) {
      const legacyAgent = new LegacyAgent({
        serverUrl: options.serverUrl,
        identity: {
          version: legacy.length % 5 === 4 ? '3.2.0' : '4.0.0',
          token: options.token,
          logicalAgentId,
          instanceId: `i-${i.toString(16).padStart(17, '0')}`,
          instanceType: 't3.medium',
          region: 'us-east-1',
          az: `us-east-1${'abc'[i % 3]}`,
          mode: 'spot',
        },
        recorder,
        startDelayMs,
        onExecute,
      })
      agent = legacyAgent
      legacy.push(legacyAgent)
      legacyAgent.start()
    } else {
      const pushAgent = new PushAgent({
        serverUrl: options.serverUrl,
        token: options.token,
        logicalAgentId,
        recorder,
        socketRecorder: options.metrics,
        onExecute,
        startDelayMs,
      })
      agent = pushAgent
      push.push(pushAgent)
      pushAgent.start()
    }
  }
  return {
    legacy,
    push,
    executions,
    firstRunAt,
    async stop() {
      await Promise.all([...legacy.map((a) => a.stop()), ...push.map((a) => a.stop())])
    },
  }
}

/** Failed registrations of an agent that has none yet are retried by it; any other failure is an error. */
function recorderOf(metrics: Metrics, agentId: () => string | null): Recorder {
  return {
    record(route, ms, status) {
      const failed = status === 0 || status >= 400
      if (failed && route === 'register' && agentId() === null) metrics.recordRetried(route, ms, status)
      else metrics.record(route, ms, status)
    },
  }
}
