/**
 * Command delivery latency: from the force-switch call to the agent's receipt, over the push socket
 * (5.x agents connected to /stream) and by 15-second polling (4.0.0 pollers at random phases).
 */
import WebSocket from 'ws'
import { forceSwitch, type SimAgent } from './agents'
import type { BenchServer } from './server'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Linked {
  agent: SimAgent
  socket: WebSocket
  /** Resolves with the receipt time of the next pushed command. */
  nextCommand(): Promise<{ id: string; at: number }>
}

/** Connects an agent's socket; each pushed command is acked and reported done (so the next can queue). */
async function link(server: BenchServer, agent: SimAgent): Promise<Linked> {
  const url = `${server.url.replace(/^http/, 'ws')}/api/agents/${agent.agentId}/stream?instance_id=${agent.identity.instanceId}`
  const socket = new WebSocket(url, { headers: { Authorization: agent.headers.Authorization! } })
  let waiter: ((c: { id: string; at: number }) => void) | null = null
  socket.on('message', (data) => {
    const at = performance.now()
    const message = JSON.parse(String(data)) as { type: string; command?: { id: string } }
    if (message.type !== 'command' || !message.command) return
    const id = message.command.id
    waiter?.({ id, at })
    waiter = null
    socket.send(JSON.stringify({ type: 'ack', command_id: id, instance_id: agent.identity.instanceId }))
    socket.send(JSON.stringify({ type: 'result', command_id: id, success: true, message: 'bench' }))
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', reject)
  })
  return {
    agent,
    socket,
    nextCommand: () => new Promise((resolve) => (waiter = resolve)),
  }
}

/** `count` force-switches round-robin over connected agents, one at a time; latencies in ms. */
export async function measurePush(
  server: BenchServer,
  agents: readonly SimAgent[],
  count: number,
  warmup = 10,
): Promise<number[]> {
  const links = await Promise.all(agents.map((a) => link(server, a)))
  const latencies: number[] = []
  for (let i = 0; i < count + warmup; i++) {
    const linked = links[i % links.length]!
    const received = linked.nextCommand()
    const started = performance.now()
    const commandId = await forceSwitch(server, linked.agent)
    if (commandId === null) {
      // The previous switch of this instance is not finished yet: try this slot again.
      await sleep(20)
      i--
      continue
    }
    const receipt = await Promise.race([received, sleep(10_000).then(() => null)])
    if (receipt === null || receipt.id !== commandId)
      throw new Error(`command ${commandId} not pushed within 10 s`)
    if (i >= warmup) latencies.push(receipt.at - started)
  }
  for (const l of links) l.socket.close(1000, 'bench done')
  return latencies
}

/**
 * Legacy pollers (one pending-commands call every `intervalMs`, random phase): each gets one
 * force-switch at a random moment; latency from the call to the poll answer that carries it.
 */
export async function measurePolling(
  server: BenchServer,
  agents: readonly SimAgent[],
  intervalMs = 15_000,
): Promise<number[]> {
  const latencies: number[] = []
  const issuedAt = new Map<string, number>()
  const timers: NodeJS.Timeout[] = []
  let running = true
  const poll = async (agent: SimAgent) => {
    const res = await fetch(`${server.url}/api/agents/${agent.agentId}/pending-commands`, {
      headers: agent.headers,
    })
    const at = performance.now()
    const list = (await res.json()) as { id: string }[]
    for (const command of list) {
      const started = issuedAt.get(command.id)
      if (started !== undefined) latencies.push(at - started)
      await fetch(`${server.url}/api/agents/${agent.agentId}/commands/${command.id}/executed`, {
        method: 'POST',
        headers: agent.headers,
        body: JSON.stringify({ success: true, message: 'bench' }),
      }).then((r) => r.body?.cancel())
    }
  }
  const loop = (agent: SimAgent, delay: number) => {
    timers.push(
      setTimeout(() => {
        if (!running) return
        void poll(agent).finally(() => loop(agent, intervalMs))
      }, delay),
    )
  }
  for (const agent of agents) loop(agent, Math.random() * intervalMs)
  await Promise.all(
    agents.map(async (agent) => {
      await sleep(Math.random() * intervalMs)
      const started = performance.now()
      const id = await forceSwitch(server, agent)
      if (id) issuedAt.set(id, started)
    }),
  )
  const deadline = performance.now() + 2 * intervalMs + 5_000
  while (latencies.length < issuedAt.size && performance.now() < deadline) await sleep(100)
  running = false
  timers.forEach(clearTimeout)
  return latencies
}
