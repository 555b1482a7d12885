/** Simulated agents for the benchmark: a client through the admin API, agents through `register`. */
import { registerBody, type LegacyIdentity } from '../../test/emulators/legacy-bodies'
import { newInstanceId } from '../../test/emulators/legacy-agent'
import { createClient } from '../../test/support/clients'
import type { BenchServer } from './server'

export interface SimAgent {
  agentId: string
  identity: LegacyIdentity
  /** Headers with the client's bearer. */
  headers: Record<string, string>
}

/** The pools of pricing-report-v4.json (spot per AZ of us-east-1) and the on-demand price. */
export const PRICES = {
  spot: { 'us-east-1a': 0.0125, 'us-east-1b': 0.0131, 'us-east-1c': 0.0119 },
  onDemand: 0.0416,
}

export async function newClientToken(
  server: Pick<BenchServer, 'url' | 'adminToken'>,
  name: string,
): Promise<string> {
  return (await createClient(server.url, server.adminToken, name)).token
}

export function identityOf(token: string, version: LegacyIdentity['version'] = '4.0.0'): LegacyIdentity {
  const instanceId = newInstanceId()
  return {
    version,
    token,
    logicalAgentId: `bench-${instanceId}`,
    instanceId,
    instanceType: 't3.medium',
    region: 'us-east-1',
    az: 'us-east-1a',
    mode: 'spot',
  }
}

/**
 * Registers `count` agents, `parallel` at a time; `agentVersion` overrides the body's (e.g. 5.0.0).
 * A 503 from wrangler dev's proxy (it answers so when the Worker falls behind) or a dropped connection
 * is retried: registering the same logical agent again is idempotent.
 */
export async function registerAgents(
  server: Pick<BenchServer, 'url'>,
  token: string,
  count: number,
  agentVersion?: string,
  parallel = 5,
): Promise<SimAgent[]> {
  const agents: SimAgent[] = []
  for (let start = 0; start < count; start += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - start) }, async () => {
      const identity = identityOf(token)
      const body = JSON.stringify({
        ...registerBody(identity),
        ...(agentVersion ? { agent_version: agentVersion } : {}),
      })
      for (let attempt = 1; ; attempt++) {
        const res = await fetch(`${server.url}/api/agents/register`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body,
        }).catch((error: unknown) => {
          // The runtime's own port closes a kept-alive connection idle for 5 s: a reused one may be gone.
          if (attempt === 5) throw error
          return null
        })
        if (res === null) continue
        if (res.ok) {
          const { agent_id } = (await res.json()) as { agent_id: string }
          return {
            agentId: agent_id,
            identity,
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          }
        }
        const text = await res.text()
        if (res.status !== 503 || attempt === 5) throw new Error(`register: HTTP ${res.status} ${text}`)
        await new Promise((r) => setTimeout(r, 200 * attempt))
      }
    })
    agents.push(...(await Promise.all(batch)))
  }
  return agents
}

/** The shutdown heartbeat: the agent is offline at once, so its object's alarm writes nothing later. */
export async function sayOffline(server: BenchServer, agents: readonly SimAgent[]): Promise<void> {
  await Promise.all(
    agents.map((a) =>
      fetch(`${server.url}/api/agents/${a.agentId}/heartbeat`, {
        method: 'POST',
        headers: a.headers,
        body: JSON.stringify({ status: 'offline', monitored_instances: [] }),
      }).then((r) => r.body?.cancel()),
    ),
  )
}

/** POST force-switch to on-demand; the command id, or null when refused (e.g. one still pending). */
export async function forceSwitch(server: BenchServer, agent: SimAgent): Promise<string | null> {
  const res = await server.admin(`/api/client/instances/${agent.identity.instanceId}/force-switch`, {
    target: 'ondemand',
  })
  const text = await res.text()
  if (!res.ok) return null
  const body = JSON.parse(text) as { success?: boolean; command_id?: string }
  return body.success && body.command_id ? body.command_id : null
}
