/**
 * The running simulator's control API on a loopback port (its URL is written to <state dir>/fleet.json):
 *   GET  /status                       agents, their instances and processes, prices, signals sent
 *   POST /agents/:agent/interrupt      spot interruption notice for the agent's instance ({inSeconds?})
 *   POST /agents/:agent/rebalance      rebalance recommendation for the agent's instance
 *   POST /agents/:agent/kill           SIGKILL the agent process (restarted like systemd would)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as z from 'zod'
import type { AgentSupervisor } from './agents'
import type { SimRegion } from './region'

export interface ControlApi {
  readonly url: string
  close(): Promise<void>
}

export interface ControlApiDeps {
  region: SimRegion
  supervisor: AgentSupervisor
  primaryOf: (logicalAgentId: string) => string | undefined
  logicalAgentIds: string[]
}

const InterruptBody = z.object({ inSeconds: z.number().int().min(1).max(3600).optional() })

/** What GET /status answers (and the status line shows). */
export function fleetStatus(deps: ControlApiDeps) {
  const processes = deps.supervisor.running()
  const hosts = deps.region.hosts()
  return {
    simulated_time: new Date(deps.region.clock.now()).toISOString(),
    prices: deps.region.prices(),
    on_demand_price: deps.region.onDemandPrice,
    signals_sent: { ...deps.region.sent },
    agents: deps.logicalAgentIds.map((id) => {
      const instanceId = deps.primaryOf(id)
      const instance = instanceId ? deps.region.ec2.instance(instanceId) : undefined
      return {
        agent: id,
        instance_id: instanceId ?? null,
        mode: instance ? (instance.lifecycle === 'spot' ? 'spot' : 'ondemand') : null,
        az: instance?.az ?? null,
        instances: hosts.filter((h) => h.tags.LogicalAgentId === id && h.state !== 'terminated').map((h) => ({ id: h.instanceId, state: h.state, replica: h.tags.ReplicaId ?? null })),
        processes: processes.filter((p) => p.logicalAgentId === id).map((p) => ({ instance_id: p.instanceId, pid: p.pid, restarts: p.restarts })),
      }
    }),
  }
}

export async function startControlApi(deps: ControlApiDeps): Promise<ControlApi> {
  const server = createServer((req, res) => {
    void handle(deps, req, res).catch((error: unknown) => send(res, 500, { error: String(error) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

async function handle(deps: ControlApiDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fleet')
  if (req.method === 'GET' && url.pathname === '/status') return send(res, 200, fleetStatus(deps))
  const match = url.pathname.match(/^\/agents\/([^/]+)\/(interrupt|rebalance|kill)$/)
  if (req.method !== 'POST' || !match) return send(res, 404, { error: 'not found' })
  const [, agent, action] = match as unknown as [string, string, 'interrupt' | 'rebalance' | 'kill']
  const instanceId = deps.primaryOf(decodeURIComponent(agent))
  if (!instanceId) return send(res, 404, { error: `no running instance for agent ${agent}` })
  switch (action) {
    case 'interrupt': {
      const body = InterruptBody.safeParse(await readJson(req))
      if (!body.success) return send(res, 400, { error: body.error.message })
      deps.region.interrupt(instanceId, body.data.inSeconds)
      return send(res, 200, { agent, instance_id: instanceId, action })
    }
    case 'rebalance':
      deps.region.rebalance(instanceId)
      return send(res, 200, { agent, instance_id: instanceId, action })
    case 'kill':
      await deps.supervisor.kill(instanceId)
      return send(res, 200, { agent, instance_id: instanceId, action })
    default: {
      const never: never = action
      return never
    }
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = ''
  for await (const chunk of req) text += String(chunk)
  if (!text.trim()) return {}
  try {
    return JSON.parse(text) as unknown
  } catch {
    return null
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}
