/**
 * A pass-through in front of the control plane for an agent process: it counts the requests it
 * forwards (what the agent sends, seen from outside) and plays the network under the push socket:
 * dropping it (both ends see it close), refusing new ones, or freezing it (no byte either way and no
 * close ever passed on: a half-open connection).
 */
import { createServer, request, type IncomingMessage } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'

export interface CountingProxy {
  readonly url: string
  /** Requests forwarded (socket upgrades included), with their real arrival time, epoch ms. */
  readonly requests: readonly { method: string; path: string; at: number }[]
  /** Requests of `method` whose path (query left out) ends with `pathEnd`. */
  count(method: string, pathEnd: string): number
  /** While true, a socket upgrade is answered 503. */
  refuseSockets: boolean
  /** Ends every socket passed so far, both ways. */
  dropSockets(): void
  /** Stops passing the sockets' bytes either way and keeps both ends open, whatever one end does. */
  freezeSockets(): void
  close(): Promise<void>
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const { hostname, port } = new URL(target)
  const requests: { method: string; path: string; at: number }[] = []
  const pairs: { client: Socket; upstream: Socket; frozen: boolean }[] = []
  const heard = (req: IncomingMessage) =>
    requests.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, at: Date.now() })

  const server = createServer((req, res) => {
    heard(req)
    const upstream = request(
      { host: hostname, port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
    req.pipe(upstream)
  })

  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    heard(req)
    if (proxy.refuseSockets) {
      client.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
      return
    }
    const upstream = connect(Number(port), hostname)
    const pair = { client, upstream, frozen: false }
    pairs.push(pair)
    upstream.on('connect', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`]
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`)
      if (head.length > 0) upstream.write(head)
      client.pipe(upstream)
      upstream.pipe(client)
    })
    // One end closing closes the other, unless frozen (the close never gets through).
    const end = () => {
      if (pair.frozen) return
      client.destroy()
      upstream.destroy()
    }
    for (const socket of [client, upstream]) {
      socket.on('error', end)
      socket.on('close', end)
    }
  })

  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const proxy: CountingProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    count: (method, pathEnd) =>
      requests.filter((r) => r.method === method && r.path.endsWith(pathEnd)).length,
    refuseSockets: false,
    dropSockets() {
      for (const { client, upstream } of pairs.splice(0)) {
        client.destroy()
        upstream.destroy()
      }
    },
    freezeSockets() {
      for (const pair of pairs) {
        pair.frozen = true
        pair.client.unpipe(pair.upstream)
        pair.upstream.unpipe(pair.client)
        pair.client.pause()
        pair.upstream.pause()
      }
    },
    async close() {
      for (const { client, upstream } of pairs.splice(0)) {
        client.destroy()
        upstream.destroy()
      }
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  return proxy
}
