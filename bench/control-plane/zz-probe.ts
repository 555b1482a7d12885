import { startBenchServer } from '/work/main/bench/control-plane/server'
import { newClientToken, registerAgents } from '/work/main/bench/control-plane/agents'
import { heartbeatBody } from '/work/main/test/emulators/legacy-bodies'
const server = await startBenchServer()
try {
  const token = await newClientToken(server, 'probe')
  const agents = await registerAgents(server, token, 10)
  console.log('rows after register', await server.rowsWritten())
  for (let i = 0; i < 5; i++) {
    const a = agents[0]!
    const t = performance.now()
    const res = await fetch(`${server.url}/api/agents/${a.agentId}/heartbeat`, { method: 'POST', headers: a.headers, body: JSON.stringify(heartbeatBody(a.identity)) })
    console.log(res.status, (await res.text()).slice(0, 200), (performance.now() - t).toFixed(1), 'ms')
  }
  console.log('rows after heartbeats', await server.rowsWritten())
  const t = performance.now()
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => {
    const a = agents[i % 10]!
    return fetch(`${server.url}/api/agents/${a.agentId}/heartbeat`, { method: 'POST', headers: a.headers, body: JSON.stringify(heartbeatBody(a.identity)) }).then(async (r) => [r.status, await r.text()] as const).catch((e) => [0, String(e.cause ?? e)] as const)
  }))
  console.log('200 concurrent in', (performance.now() - t).toFixed(0), 'ms', results.filter((r) => r[0] !== 200).slice(0, 3))
} finally { await server.stop() }
